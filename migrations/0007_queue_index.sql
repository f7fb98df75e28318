-- The reviewer queue (src/db/review.rs) counts and pages by (status, template, stage) and
-- narrows by student (their college, a keyword) and program: one index answers the counts on
-- its own and hands the page its order. It supersedes applications_stage, its prefix.
CREATE INDEX applications_queue ON applications (status, workflow_template_id, stage_index, student_id, program_id, submitted_at);
DROP INDEX applications_stage;
