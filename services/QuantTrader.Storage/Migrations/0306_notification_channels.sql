-- A user's notification channels (docs/notifications.md § Channels): a signed webhook, a Telegram bot chat, a Discord or
-- Slack incoming webhook. The settings hold secrets (a bot token, a webhook URL whose path is the credential), so they
-- are stored only encrypted (ASP.NET Core Data Protection, keys in data_protection_keys below); `hint` is what the API
-- shows of them (the last characters), never the whole.
CREATE TABLE IF NOT EXISTS notification_channels (
    id         uuid        PRIMARY KEY,
    user_id    uuid        NOT NULL,
    type       text        NOT NULL,   -- webhook | telegram | discord | slack
    name       text        NOT NULL,
    settings   text        NOT NULL,   -- the settings as JSON, Data-Protection-encrypted
    hint       text        NOT NULL,   -- e.g. "telegram chat 12345, token …AbCd"
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS notification_channels_user ON notification_channels (user_id, created_at);

-- The Data Protection key ring of the alert service, shared by its replicas (each can decrypt what another wrote).
CREATE TABLE IF NOT EXISTS data_protection_keys (
    application text        NOT NULL,
    name        text        NOT NULL,
    xml         text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (application, name)
);

-- The channels an alert rule notifies beside its own webhook_url: [{"id": "...", "type": "telegram"}, ...].
ALTER TABLE alert_rules ADD COLUMN IF NOT EXISTS channels jsonb NOT NULL DEFAULT '[]';
