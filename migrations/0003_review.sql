-- The review workbench: internal notes staff keep on an application (never shown to the
-- student), and the index that finds what waits on a stage.
CREATE TABLE application_notes (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    author_id @BIGINT@ REFERENCES users(id),
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at @TS@ NOT NULL
);
CREATE INDEX application_notes_application ON application_notes (application_id, id);
CREATE INDEX applications_stage ON applications (status, workflow_template_id, stage_index);
CREATE INDEX applications_submitted ON applications (submitted_at);
