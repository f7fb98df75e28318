-- Outbound schema, version 1.
-- Portable SQL: the migration runner replaces the @TOKENS@ with each backend's type names
-- (see src/db/migrate.rs). Every statement ends with a semicolon on its own line end.

CREATE TABLE colleges (
    id @ID@,
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    active @BOOL@ NOT NULL DEFAULT TRUE
);

CREATE TABLE majors (
    id @ID@,
    college_id @BIGINT@ NOT NULL REFERENCES colleges(id),
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    active @BOOL@ NOT NULL DEFAULT TRUE
);

-- Editable code lists: countries/regions, languages, exam types, funding sources, program
-- types, ethnic groups, political status, ID types, admission categories ...
CREATE TABLE dictionary_items (
    id @ID@,
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    label_zh TEXT NOT NULL,
    label_en TEXT NOT NULL,
    sort_order @BIGINT@ NOT NULL DEFAULT 0,
    active @BOOL@ NOT NULL DEFAULT TRUE,
    UNIQUE (kind, code)
);

CREATE TABLE users (
    id @ID@,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    must_change_password @BOOL@ NOT NULL DEFAULT FALSE,
    failed_logins @BIGINT@ NOT NULL DEFAULT 0,
    locked_until @TS@,
    active @BOOL@ NOT NULL DEFAULT TRUE,
    created_at @TS@ NOT NULL,
    last_login_at @TS@
);

-- A person can hold several roles.
CREATE TABLE user_roles (
    user_id @BIGINT@ NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- The colleges a college reviewer reviews for.
CREATE TABLE reviewer_colleges (
    user_id @BIGINT@ NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    college_id @BIGINT@ NOT NULL REFERENCES colleges(id),
    PRIMARY KEY (user_id, college_id)
);

-- Server-side sessions (tower-sessions records on our own pool).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id @BIGINT@,
    data TEXT NOT NULL,
    expires_at @TS@ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- The student profile (个人资料). Registry fields come from the university's records and are
-- read-only to the student. *_enc columns hold AES-256-GCM ciphertext; *_hash a keyed hash.
CREATE TABLE students (
    user_id @BIGINT@ PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    student_no TEXT NOT NULL UNIQUE,
    campus_card_no TEXT NOT NULL,
    college_id @BIGINT@ NOT NULL REFERENCES colleges(id),
    major_id @BIGINT@ REFERENCES majors(id),
    grade TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL,
    schooling_years TEXT NOT NULL DEFAULT '',
    entry_year TEXT NOT NULL DEFAULT '',
    name_zh TEXT NOT NULL DEFAULT '',
    pinyin_surname TEXT NOT NULL DEFAULT '',
    pinyin_given TEXT NOT NULL DEFAULT '',
    gender TEXT NOT NULL DEFAULT '',
    nationality TEXT NOT NULL DEFAULT '',
    ethnicity TEXT NOT NULL DEFAULT '',
    birth_date TEXT NOT NULL DEFAULT '',
    id_type TEXT NOT NULL DEFAULT '',
    id_number_enc TEXT NOT NULL DEFAULT '',
    id_number_hash TEXT NOT NULL DEFAULT '',
    id_number_masked TEXT NOT NULL DEFAULT '',
    admission_category TEXT NOT NULL DEFAULT '',
    political_status TEXT NOT NULL DEFAULT '',
    marital_status TEXT NOT NULL DEFAULT '',
    hukou TEXT NOT NULL DEFAULT '',
    birthplace TEXT NOT NULL DEFAULT '',
    native_place TEXT NOT NULL DEFAULT '',
    home_address TEXT NOT NULL DEFAULT '',
    home_phone TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    qq TEXT NOT NULL DEFAULT '',
    wechat TEXT NOT NULL DEFAULT '',
    gpa TEXT NOT NULL DEFAULT '',
    major_rank TEXT NOT NULL DEFAULT '',
    health_enc TEXT NOT NULL DEFAULT '',
    rewards TEXT NOT NULL DEFAULT '',
    remarks TEXT NOT NULL DEFAULT '',
    passport_no_enc TEXT NOT NULL DEFAULT '',
    passport_no_hash TEXT NOT NULL DEFAULT '',
    passport_expiry TEXT NOT NULL DEFAULT '',
    supervisor_name TEXT NOT NULL DEFAULT '',
    supervisor_phone TEXT NOT NULL DEFAULT '',
    emergency_name TEXT NOT NULL DEFAULT '',
    emergency_mobile TEXT NOT NULL DEFAULT '',
    emergency_relation TEXT NOT NULL DEFAULT '',
    photo_key TEXT,
    version @BIGINT@ NOT NULL DEFAULT 1,
    updated_at @TS@ NOT NULL
);
CREATE INDEX students_college ON students (college_id);
CREATE INDEX students_id_hash ON students (id_number_hash);

CREATE TABLE study_records (
    id @ID@,
    user_id @BIGINT@ NOT NULL REFERENCES students(user_id) ON DELETE CASCADE,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    school TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    degree TEXT NOT NULL
);

-- Workflow templates: an ordered list of stages (JSON), versioned; an application keeps the
-- version it was submitted under.
CREATE TABLE workflow_templates (
    id @ID@,
    code TEXT NOT NULL,
    version @BIGINT@ NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    stages TEXT NOT NULL,
    created_at @TS@ NOT NULL,
    UNIQUE (code, version)
);

CREATE TABLE programs (
    id @ID@,
    code TEXT NOT NULL UNIQUE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    year @BIGINT@ NOT NULL,
    semesters TEXT NOT NULL DEFAULT '[]',
    start_date TEXT NOT NULL DEFAULT '',
    end_date TEXT NOT NULL DEFAULT '',
    duration TEXT NOT NULL DEFAULT '',
    nature TEXT NOT NULL DEFAULT '',
    region_kind TEXT NOT NULL DEFAULT 'international',
    country TEXT NOT NULL DEFAULT '',
    program_type TEXT NOT NULL,
    fee_mode TEXT NOT NULL DEFAULT '',
    fee TEXT NOT NULL DEFAULT '',
    term TEXT NOT NULL DEFAULT 'short',
    teaching_mode TEXT NOT NULL DEFAULT 'offline',
    description TEXT NOT NULL DEFAULT '',
    host_unit TEXT NOT NULL DEFAULT '',
    reg_start @TS@ NOT NULL,
    reg_end @TS@ NOT NULL,
    levels TEXT NOT NULL DEFAULT '[]',
    grades TEXT NOT NULL DEFAULT '[]',
    major_ids TEXT NOT NULL DEFAULT '[]',
    min_gpa DOUBLE PRECISION,
    has_interview @BOOL@ NOT NULL DEFAULT FALSE,
    allows_late @BOOL@ NOT NULL DEFAULT FALSE,
    max_per_student @BIGINT@,
    notice TEXT NOT NULL DEFAULT '',
    workflow_code TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'school',
    status TEXT NOT NULL DEFAULT 'draft',
    active @BOOL@ NOT NULL DEFAULT TRUE,
    published_at @TS@,
    created_by @BIGINT@ REFERENCES users(id),
    created_at @TS@ NOT NULL,
    updated_at @TS@ NOT NULL,
    version @BIGINT@ NOT NULL DEFAULT 1
);
CREATE INDEX programs_year ON programs (year);
CREATE INDEX programs_status ON programs (status, published_at);

-- Partner schools of a program: they are the 志愿 choices; quota = 推荐名额.
CREATE TABLE partner_schools (
    id @ID@,
    program_id @BIGINT@ NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    quota @BIGINT@ NOT NULL DEFAULT 0,
    sort_order @BIGINT@ NOT NULL DEFAULT 0
);
CREATE INDEX partner_schools_program ON partner_schools (program_id);

CREATE TABLE attachment_types (
    id @ID@,
    program_id @BIGINT@ NOT NULL REFERENCES programs(id) ON DELETE CASCADE,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    required @BOOL@ NOT NULL DEFAULT FALSE,
    hint TEXT NOT NULL DEFAULT '',
    formats TEXT NOT NULL DEFAULT '["pdf","png","jpg","tiff","doc","docx"]',
    max_bytes @BIGINT@ NOT NULL DEFAULT 10485760,
    sort_order @BIGINT@ NOT NULL DEFAULT 0
);
CREATE INDEX attachment_types_program ON attachment_types (program_id);

CREATE TABLE applications (
    id @ID@,
    student_id @BIGINT@ NOT NULL REFERENCES students(user_id),
    program_id @BIGINT@ NOT NULL REFERENCES programs(id),
    round_year @BIGINT@ NOT NULL,
    status TEXT NOT NULL,
    version @BIGINT@ NOT NULL DEFAULT 1,
    is_late @BOOL@ NOT NULL DEFAULT FALSE,
    workflow_template_id @BIGINT@ REFERENCES workflow_templates(id),
    stage_index @BIGINT@ NOT NULL DEFAULT 0,
    stage_decided @BOOL@ NOT NULL DEFAULT FALSE,
    commitment_at @TS@,
    info TEXT NOT NULL DEFAULT '{}',
    profile_snapshot TEXT NOT NULL DEFAULT '{}',
    passport_no_enc TEXT NOT NULL DEFAULT '',
    has_pending_score @BOOL@ NOT NULL DEFAULT FALSE,
    score_backfilled @BOOL@ NOT NULL DEFAULT FALSE,
    admitted_school_id @BIGINT@ REFERENCES partner_schools(id),
    created_at @TS@ NOT NULL,
    updated_at @TS@ NOT NULL,
    submitted_at @TS@
);
CREATE INDEX applications_student ON applications (student_id, status);
CREATE INDEX applications_program ON applications (program_id, status);
CREATE INDEX applications_status ON applications (status, submitted_at);

CREATE TABLE language_scores (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    exam_type TEXT NOT NULL,
    score TEXT NOT NULL DEFAULT '',
    exam_date TEXT NOT NULL DEFAULT '',
    backfilled_at @TS@,
    sort_order @BIGINT@ NOT NULL DEFAULT 0
);
CREATE INDEX language_scores_application ON language_scores (application_id);

-- A reviewer's request for an extra document (补交材料) without withdrawing the application.
CREATE TABLE supplement_requests (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    requested_by @BIGINT@ NOT NULL REFERENCES users(id),
    created_at @TS@ NOT NULL,
    fulfilled_at @TS@
);

CREATE TABLE attachments (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    attachment_type_id @BIGINT@ REFERENCES attachment_types(id),
    supplement_request_id @BIGINT@ REFERENCES supplement_requests(id),
    storage_key TEXT NOT NULL UNIQUE,
    original_name TEXT NOT NULL,
    format TEXT NOT NULL,
    size_bytes @BIGINT@ NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by @BIGINT@ NOT NULL REFERENCES users(id),
    created_at @TS@ NOT NULL
);
CREATE INDEX attachments_application ON attachments (application_id);

-- Every step of an application (进度跟踪): nothing is ever overwritten.
CREATE TABLE application_history (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    stage_name TEXT NOT NULL DEFAULT '',
    actor_id @BIGINT@ REFERENCES users(id),
    actor_name TEXT NOT NULL,
    opinion TEXT NOT NULL DEFAULT '',
    created_at @TS@ NOT NULL
);
CREATE INDEX application_history_application ON application_history (application_id, id);

-- Idempotency keys of submits: a replayed request returns the first answer.
CREATE TABLE idempotency_keys (
    user_id @BIGINT@ NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at @TS@ NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE messages (
    id @ID@,
    user_id @BIGINT@ NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    read_at @TS@,
    created_at @TS@ NOT NULL
);
CREATE INDEX messages_user ON messages (user_id, read_at);

CREATE TABLE announcements (
    id @ID@,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL DEFAULT '',
    body_zh TEXT NOT NULL DEFAULT '',
    body_en TEXT NOT NULL DEFAULT '',
    published_at @TS@ NOT NULL
);

CREATE TABLE audit_log (
    id @ID@,
    actor_id @BIGINT@,
    actor_name TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at @TS@ NOT NULL
);
CREATE INDEX audit_log_created ON audit_log (created_at);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
