-- Issue 8: the message a channel posted for a hold (Slack: the channel id and the
-- message ts), so that any gateway on the same store can update it later.
CREATE TABLE channel_messages (
    action_id  TEXT NOT NULL,
    channel    TEXT NOT NULL,
    reference  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (action_id, channel)
);

-- A channel hears of one hold in order: the worker looks for earlier undelivered items of
-- the same action and channel.
CREATE INDEX outbox_by_action ON outbox (action_id, channel) WHERE delivered_at IS NULL;

-- A repeat of a pending hold is answered with that hold: looked up by digest.
CREATE INDEX actions_pending_digest ON actions (digest, principal_kind, principal_name, id)
    WHERE status = 'pending';
