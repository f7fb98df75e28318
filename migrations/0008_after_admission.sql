-- After admission (SPEC §9): the program's settings for the second half of the journey, the
-- dates of each admitted student's exchange, the requests the office decides, check-ins abroad,
-- self-arranged program proposals, and the reminders already sent.

-- 境外打卡 rule: the first check-in within N days of departure, then a safety report every
-- M days while abroad (0: none).
ALTER TABLE programs ADD COLUMN check_in_first_days @BIGINT@ NOT NULL DEFAULT 3;
ALTER TABLE programs ADD COLUMN check_in_interval_days @BIGINT@ NOT NULL DEFAULT 30;
-- 经费预算申请 and 资助申请: the cost items offered with their caps (JSON; no items = not offered).
ALTER TABLE programs ADD COLUMN budget_offer TEXT NOT NULL DEFAULT '{"items":[]}';
ALTER TABLE programs ADD COLUMN funding_offer TEXT NOT NULL DEFAULT '{"items":[]}';
-- The shortest 交流总结 accepted, in characters.
ALTER TABLE programs ADD COLUMN min_summary_chars @BIGINT@ NOT NULL DEFAULT 300;
-- A 自联项目 approved for one student is visible to that student only.
ALTER TABLE programs ADD COLUMN owner_student_id @BIGINT@ REFERENCES users(id);

-- Which part of the journey a document type belongs to: application (报名附件),
-- pre_departure (行前材料) or return (返校材料).
ALTER TABLE attachment_types ADD COLUMN phase TEXT NOT NULL DEFAULT 'application';
CREATE INDEX attachment_types_phase ON attachment_types (program_id, phase);

-- The dates of an admitted student's exchange: planned (the program's, unless a change was
-- approved), the departure the office confirmed, and the return filed.
CREATE TABLE exchange_plans (
    application_id @BIGINT@ PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
    plan_start TEXT NOT NULL,
    plan_end TEXT NOT NULL,
    departed_on TEXT,
    destination_city TEXT NOT NULL DEFAULT '',
    returned_on TEXT,
    -- 交流总结, as filed with the return formalities.
    summary TEXT NOT NULL DEFAULT '',
    updated_at @TS@ NOT NULL
);
CREATE INDEX exchange_plans_departed ON exchange_plans (departed_on);

-- 派出确认, 派出前变更, 经费预算申请, 变更交流计划, 资助申请: filed by the student, decided by the
-- office. `payload` is the parsed form (JSON) without personal data, which is sealed apart.
CREATE TABLE application_requests (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    version @BIGINT@ NOT NULL DEFAULT 1,
    payload TEXT NOT NULL,
    sealed TEXT NOT NULL DEFAULT '',
    approval TEXT NOT NULL DEFAULT '',
    opinion TEXT NOT NULL DEFAULT '',
    filed_by @BIGINT@ NOT NULL REFERENCES users(id),
    filed_at @TS@ NOT NULL,
    decided_by @BIGINT@ REFERENCES users(id),
    decided_at @TS@
);
CREATE INDEX application_requests_application ON application_requests (application_id, kind);
CREATE INDEX application_requests_status ON application_requests (status, kind, filed_at);

-- A supporting file of a request (the proof of a change).
ALTER TABLE attachments ADD COLUMN request_id @BIGINT@ REFERENCES application_requests(id);

-- 境外打卡: one row per check-in, with the day it was due (a late one is flagged).
CREATE TABLE check_ins (
    id @ID@,
    application_id @BIGINT@ NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    checked_on TEXT NOT NULL,
    due_on TEXT NOT NULL,
    arrival_date TEXT,
    address TEXT NOT NULL,
    local_phone TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at @TS@ NOT NULL
);
CREATE INDEX check_ins_application ON check_ins (application_id, id);

-- 自联项目: a student's proposal; approved, it becomes a program of their own.
CREATE TABLE self_arranged_proposals (
    id @ID@,
    student_id @BIGINT@ NOT NULL REFERENCES students(user_id),
    status TEXT NOT NULL,
    version @BIGINT@ NOT NULL DEFAULT 1,
    payload TEXT NOT NULL,
    proof_key TEXT NOT NULL DEFAULT '',
    proof_name TEXT NOT NULL DEFAULT '',
    proof_format TEXT NOT NULL DEFAULT '',
    proof_size @BIGINT@ NOT NULL DEFAULT 0,
    program_id @BIGINT@ REFERENCES programs(id),
    opinion TEXT NOT NULL DEFAULT '',
    filed_at @TS@ NOT NULL,
    decided_by @BIGINT@ REFERENCES users(id),
    decided_at @TS@
);
CREATE INDEX self_arranged_proposals_student ON self_arranged_proposals (student_id, id);
CREATE INDEX self_arranged_proposals_status ON self_arranged_proposals (status, filed_at);

-- Every reminder sent, by a key naming what and for which due day: a rerun or a restart of the
-- reminder job finds it and sends nothing twice.
CREATE TABLE reminders_sent (
    reminder_key TEXT PRIMARY KEY,
    user_id @BIGINT@ NOT NULL REFERENCES users(id),
    sent_at @TS@ NOT NULL
);
