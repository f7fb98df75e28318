-- System administration (SPEC §11): the audit-log page filters by person and by action, newest
-- first; these indexes keep those filters off a full scan once the log is large.
CREATE INDEX audit_log_actor ON audit_log (actor_id, created_at);
CREATE INDEX audit_log_action ON audit_log (action, created_at);
CREATE INDEX user_roles_role ON user_roles (role);
