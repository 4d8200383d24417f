-- IAM as IAM (issue 16; sqlite/0002 in PostgreSQL's types): permissions boundaries of users and roles, groups and
-- their members, instance profiles, OpenID Connect providers (with the signing keys set on them for checking tokens
-- offline), and when each access key was last used. Group policies live in iam_inline_policies and iam_attachments
-- with owner_kind 'group'.

ALTER TABLE iam_users ADD COLUMN permissions_boundary TEXT;
ALTER TABLE iam_roles ADD COLUMN permissions_boundary TEXT;

CREATE TABLE iam_groups (
    name TEXT COLLATE nocase PRIMARY KEY, group_id TEXT NOT NULL, arn TEXT NOT NULL, path TEXT COLLATE "C" NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE iam_group_members (
    group_name TEXT COLLATE nocase NOT NULL, user_name TEXT COLLATE nocase NOT NULL, seq BIGINT NOT NULL,
    PRIMARY KEY (group_name, user_name));
CREATE INDEX iam_group_members_user ON iam_group_members (user_name);

CREATE TABLE iam_instance_profiles (
    name TEXT COLLATE nocase PRIMARY KEY, profile_id TEXT NOT NULL, arn TEXT NOT NULL, path TEXT COLLATE "C" NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, tags TEXT NOT NULL, role_name TEXT COLLATE nocase);
CREATE INDEX iam_instance_profiles_role ON iam_instance_profiles (role_name) WHERE role_name IS NOT NULL;

CREATE TABLE iam_oidc_providers (
    arn TEXT COLLATE "C" PRIMARY KEY, url TEXT COLLATE nocase NOT NULL UNIQUE, client_ids TEXT NOT NULL,
    thumbprints TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL, tags TEXT NOT NULL, jwks TEXT);

ALTER TABLE iam_access_keys ADD COLUMN last_used_at DOUBLE PRECISION;
ALTER TABLE iam_access_keys ADD COLUMN last_used_service TEXT;
ALTER TABLE iam_access_keys ADD COLUMN last_used_region TEXT;
