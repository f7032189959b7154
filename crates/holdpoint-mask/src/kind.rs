//! The kinds of thing a mask can stand for, with the name shown in the mask and the
//! priority that settles overlaps (a more specific detector wins).

/// A built-in detector, or an operator's pattern by its index in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    PrivateKey,
    Jwt,
    AwsAccessKeyId,
    AwsSecretKey,
    GcpServiceAccount,
    AzureStorageKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    OpenaiKey,
    AnthropicKey,
    HoldpointToken,
    Bearer,
    Basic,
    UrlCredentials,
    SecretField,
    HighEntropy,
    Email,
    Phone,
    CardNumber,
    UsSsn,
    Iban,
    Custom(u16),
}

/// The built-in kinds, in the order of [`NAMES`].
pub(crate) const BUILTIN: [Kind; 23] = [
    Kind::PrivateKey,
    Kind::Jwt,
    Kind::AwsAccessKeyId,
    Kind::AwsSecretKey,
    Kind::GcpServiceAccount,
    Kind::AzureStorageKey,
    Kind::GithubToken,
    Kind::GitlabToken,
    Kind::SlackToken,
    Kind::StripeKey,
    Kind::OpenaiKey,
    Kind::AnthropicKey,
    Kind::HoldpointToken,
    Kind::Bearer,
    Kind::Basic,
    Kind::UrlCredentials,
    Kind::SecretField,
    Kind::HighEntropy,
    Kind::Email,
    Kind::Phone,
    Kind::CardNumber,
    Kind::UsSsn,
    Kind::Iban,
];

/// The names of the built-in detectors, as shown in masks and accepted by `disable`.
pub(crate) const NAMES: [&str; 23] = [
    "private_key",
    "jwt",
    "aws_access_key_id",
    "aws_secret_key",
    "gcp_service_account",
    "azure_storage_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "stripe_key",
    "openai_key",
    "anthropic_key",
    "holdpoint_token",
    "bearer",
    "basic",
    "url_credentials",
    "secret_field",
    "high_entropy",
    "email",
    "phone",
    "card_number",
    "us_ssn",
    "iban",
];

impl Kind {
    /// The built-in kind called `name`.
    pub(crate) fn from_name(name: &str) -> Option<Kind> {
        let i = NAMES.iter().position(|n| *n == name)?;
        BUILTIN.get(i).copied()
    }

    /// The name of a built-in kind; `None` for an operator's pattern.
    pub(crate) fn builtin_name(self) -> Option<&'static str> {
        let i = BUILTIN.iter().position(|k| *k == self)?;
        NAMES.get(i).copied()
    }

    /// Higher wins when two findings overlap. Operators' patterns first, then the
    /// detectors that know a format, then the ones that guess from context or shape.
    pub(crate) fn priority(self) -> u8 {
        match self {
            Kind::Custom(_) => 9,
            Kind::PrivateKey | Kind::Jwt | Kind::GcpServiceAccount => 8,
            Kind::AnthropicKey => 7,
            Kind::AwsAccessKeyId
            | Kind::AwsSecretKey
            | Kind::AzureStorageKey
            | Kind::GithubToken
            | Kind::GitlabToken
            | Kind::SlackToken
            | Kind::StripeKey
            | Kind::OpenaiKey
            | Kind::HoldpointToken => 6,
            Kind::Bearer | Kind::Basic | Kind::UrlCredentials => 5,
            Kind::SecretField => 4,
            Kind::CardNumber | Kind::UsSsn | Kind::Iban => 3,
            Kind::Email | Kind::Phone => 2,
            Kind::HighEntropy => 1,
        }
    }
}
