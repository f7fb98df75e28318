-- 外语水平: which 语种 each 达标方式 (exam) shows. An item of a dictionary may belong to an item
-- of another dictionary; for an exam that is its language. Empty means "any language" (校内语言
-- 测试, 其他, and any exam an administrator adds later until it is given a language).
ALTER TABLE dictionary_items ADD COLUMN parent_code TEXT NOT NULL DEFAULT '';

UPDATE dictionary_items SET parent_code = 'en'
 WHERE kind = 'exam_type' AND code IN ('cet4', 'cet6', 'tem4', 'tem8', 'toefl', 'ielts', 'gre', 'gmat', 'duolingo');
UPDATE dictionary_items SET parent_code = 'ja'
 WHERE kind = 'exam_type' AND code IN ('jlpt_n1', 'jlpt_n2', 'jlpt_n3', 'jlpt_n4', 'jlpt_n5', 'jtest');
UPDATE dictionary_items SET parent_code = 'ko' WHERE kind = 'exam_type' AND code = 'topik';
UPDATE dictionary_items SET parent_code = 'fr' WHERE kind = 'exam_type' AND code IN ('delf', 'dalf', 'tcf');
UPDATE dictionary_items SET parent_code = 'de' WHERE kind = 'exam_type' AND code IN ('testdaf', 'dsh', 'goethe');
UPDATE dictionary_items SET parent_code = 'es' WHERE kind = 'exam_type' AND code = 'dele';
UPDATE dictionary_items SET parent_code = 'ru' WHERE kind = 'exam_type' AND code = 'torfl';
