//! The data folder: the database (SQLite by default), the masking key and the first
//! admin token. It is the owner's alone (0700), and so are its secret files (0600),
//! also when an older version or a careless copy left them wider.

use crate::error::AppError;
use holdpoint_core::{Actor, PrincipalKind};
use holdpoint_gate::{Gate, NewToken};
use std::path::{Path, PathBuf};

/// The file, in the data folder, that receives the first admin token.
pub const ADMIN_TOKEN_FILE: &str = "admin.token";

/// Creates the data folder if need be and narrows it and its secret files.
pub fn private_data_dir(data: &Path) -> Result<(), AppError> {
    std::fs::create_dir_all(data).map_err(|error| AppError::DataDir {
        path: data.to_path_buf(),
        error,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let narrow = |path: &Path, mode: u32| -> Result<(), AppError> {
            if path.exists() {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(
                    |error| AppError::Restrict {
                        path: path.to_path_buf(),
                        error,
                    },
                )?;
            }
            Ok(())
        };
        narrow(data, 0o700)?;
        for file in [ADMIN_TOKEN_FILE, "mask.key"] {
            narrow(&data.join(file), 0o600)?;
        }
    }
    Ok(())
}

/// On first start (no token file, no live admin), writes an admin token to
/// `DATA/admin.token` (mode 0600); the file's path when it did.
pub(crate) async fn bootstrap_admin(gate: &Gate, data: &Path) -> Result<Option<PathBuf>, AppError> {
    let path = data.join(ADMIN_TOKEN_FILE);
    if path.exists() || gate.has_live_admin().await? {
        return Ok(None);
    }
    let (secret, _) = gate
        .create_token(
            &Actor::system(),
            NewToken {
                name: "admin".into(),
                kind: PrincipalKind::Admin,
                groups: Vec::new(),
                owner: None,
                ttl: None,
            },
        )
        .await?;
    write_secret(&path, &secret)?;
    Ok(Some(path))
}

fn write_secret(path: &Path, secret: &str) -> Result<(), AppError> {
    use std::io::Write;
    let failed = |error| AppError::Write {
        path: path.to_path_buf(),
        error,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    writeln!(file, "{secret}").map_err(failed)
}
