-- 录取管理: the allocation by parallel choices (平行志愿).
-- The results themselves live on the applications (status, admitted_school_id) and in
-- application_history; these tables hold what the office configures before publishing.

-- How a program's applicants are ranked, and when its allocation was last published.
-- Weights are whole percentages (the mix only); full marks are hundredths (4.00 → 400).
-- The defaults are those of `ScoreSettings::default()`.
-- `version` is bumped by every publication and every result recorded for the program, so
-- that both take the same row lock and cannot interleave.
CREATE TABLE allocation_settings (
    program_id @BIGINT@ PRIMARY KEY REFERENCES programs(id) ON DELETE CASCADE,
    rule TEXT NOT NULL DEFAULT 'gpa',
    weight_gpa @BIGINT@ NOT NULL DEFAULT 50,
    weight_avg @BIGINT@ NOT NULL DEFAULT 30,
    weight_language @BIGINT@ NOT NULL DEFAULT 20,
    language_exam TEXT NOT NULL DEFAULT 'ielts',
    gpa_full @BIGINT@ NOT NULL DEFAULT 400,
    language_full @BIGINT@ NOT NULL DEFAULT 900,
    version @BIGINT@ NOT NULL DEFAULT 1,
    updated_by @BIGINT@ REFERENCES users(id),
    updated_at @TS@ NOT NULL,
    published_at @TS@,
    published_by TEXT NOT NULL DEFAULT '',
    published_count @BIGINT@ NOT NULL DEFAULT 0
);

-- The office's override of one preview line (a nominated application), until published.
CREATE TABLE allocation_overrides (
    application_id @BIGINT@ PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
    program_id @BIGINT@ NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    result TEXT NOT NULL,
    set_by @BIGINT@ REFERENCES users(id),
    set_by_name TEXT NOT NULL DEFAULT '',
    set_at @TS@ NOT NULL
);
CREATE INDEX allocation_overrides_program ON allocation_overrides (program_id);
