-- 项目管理 (SPEC §4, §10): the international office's reason when it does not approve a
-- partner's program (审核不通过). The partner reads it while revising; approval clears it.
ALTER TABLE programs ADD COLUMN review_note TEXT NOT NULL DEFAULT '';
