-- Reference data every installation needs (not demo data): the code lists (dictionaries),
-- the default settings and version 1 of the workflow templates.
-- Portable SQL for SQLite and PostgreSQL: plain multi-row INSERTs, one statement per kind,
-- each ending with a semicolon at a line end; no value spans lines. Staff edit all of it later
-- through the administration pages, so codes here are only the starting set.

-- 国家/地区 (program destinations, and 国籍 on the profile). ISO 3166-1 alpha-2 codes.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('country', 'CN', '中国', 'China', 10),
('country', 'HK', '中国香港', 'Hong Kong, China', 20),
('country', 'MO', '中国澳门', 'Macao, China', 30),
('country', 'TW', '中国台湾', 'Taiwan, China', 40),
('country', 'US', '美国', 'United States', 100),
('country', 'GB', '英国', 'United Kingdom', 110),
('country', 'CA', '加拿大', 'Canada', 120),
('country', 'AU', '澳大利亚', 'Australia', 130),
('country', 'NZ', '新西兰', 'New Zealand', 140),
('country', 'JP', '日本', 'Japan', 150),
('country', 'KR', '韩国', 'South Korea', 160),
('country', 'SG', '新加坡', 'Singapore', 170),
('country', 'MY', '马来西亚', 'Malaysia', 180),
('country', 'TH', '泰国', 'Thailand', 190),
('country', 'DE', '德国', 'Germany', 200),
('country', 'FR', '法国', 'France', 210),
('country', 'IT', '意大利', 'Italy', 220),
('country', 'ES', '西班牙', 'Spain', 230),
('country', 'NL', '荷兰', 'Netherlands', 240),
('country', 'SE', '瑞典', 'Sweden', 250),
('country', 'FI', '芬兰', 'Finland', 260),
('country', 'DK', '丹麦', 'Denmark', 270),
('country', 'NO', '挪威', 'Norway', 280),
('country', 'CH', '瑞士', 'Switzerland', 290),
('country', 'AT', '奥地利', 'Austria', 300),
('country', 'BE', '比利时', 'Belgium', 310),
('country', 'IE', '爱尔兰', 'Ireland', 320),
('country', 'LU', '卢森堡', 'Luxembourg', 330),
('country', 'PT', '葡萄牙', 'Portugal', 340),
('country', 'GR', '希腊', 'Greece', 350),
('country', 'PL', '波兰', 'Poland', 360),
('country', 'CZ', '捷克', 'Czech Republic', 370),
('country', 'HU', '匈牙利', 'Hungary', 380),
('country', 'RU', '俄罗斯', 'Russia', 390),
('country', 'BY', '白俄罗斯', 'Belarus', 400),
('country', 'UA', '乌克兰', 'Ukraine', 410),
('country', 'RS', '塞尔维亚', 'Serbia', 420),
('country', 'TR', '土耳其', 'Türkiye', 430),
('country', 'IL', '以色列', 'Israel', 440),
('country', 'AE', '阿联酋', 'United Arab Emirates', 450),
('country', 'SA', '沙特阿拉伯', 'Saudi Arabia', 460),
('country', 'QA', '卡塔尔', 'Qatar', 470),
('country', 'IN', '印度', 'India', 480),
('country', 'PK', '巴基斯坦', 'Pakistan', 490),
('country', 'KZ', '哈萨克斯坦', 'Kazakhstan', 500),
('country', 'UZ', '乌兹别克斯坦', 'Uzbekistan', 510),
('country', 'MN', '蒙古', 'Mongolia', 520),
('country', 'ID', '印度尼西亚', 'Indonesia', 530),
('country', 'VN', '越南', 'Vietnam', 540),
('country', 'PH', '菲律宾', 'Philippines', 550),
('country', 'KH', '柬埔寨', 'Cambodia', 560),
('country', 'LA', '老挝', 'Laos', 570),
('country', 'NP', '尼泊尔', 'Nepal', 580),
('country', 'LK', '斯里兰卡', 'Sri Lanka', 590),
('country', 'BR', '巴西', 'Brazil', 600),
('country', 'AR', '阿根廷', 'Argentina', 610),
('country', 'MX', '墨西哥', 'Mexico', 620),
('country', 'CL', '智利', 'Chile', 630),
('country', 'PE', '秘鲁', 'Peru', 640),
('country', 'CO', '哥伦比亚', 'Colombia', 650),
('country', 'CU', '古巴', 'Cuba', 660),
('country', 'ZA', '南非', 'South Africa', 670),
('country', 'EG', '埃及', 'Egypt', 680),
('country', 'KE', '肯尼亚', 'Kenya', 690),
('country', 'NG', '尼日利亚', 'Nigeria', 700),
('country', 'ET', '埃塞俄比亚', 'Ethiopia', 710),
('country', 'MA', '摩洛哥', 'Morocco', 720),
('country', 'ZZ', '其他', 'Other', 9990);

-- 民族: the 56 ethnic groups in the official order (GB 3304 codes), then 其他 and 外国血统.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('ethnicity', '01', '汉族', 'Han', 1),
('ethnicity', '02', '蒙古族', 'Mongol', 2),
('ethnicity', '03', '回族', 'Hui', 3),
('ethnicity', '04', '藏族', 'Tibetan', 4),
('ethnicity', '05', '维吾尔族', 'Uyghur', 5),
('ethnicity', '06', '苗族', 'Miao', 6),
('ethnicity', '07', '彝族', 'Yi', 7),
('ethnicity', '08', '壮族', 'Zhuang', 8),
('ethnicity', '09', '布依族', 'Bouyei', 9),
('ethnicity', '10', '朝鲜族', 'Korean', 10),
('ethnicity', '11', '满族', 'Manchu', 11),
('ethnicity', '12', '侗族', 'Dong', 12),
('ethnicity', '13', '瑶族', 'Yao', 13),
('ethnicity', '14', '白族', 'Bai', 14),
('ethnicity', '15', '土家族', 'Tujia', 15),
('ethnicity', '16', '哈尼族', 'Hani', 16),
('ethnicity', '17', '哈萨克族', 'Kazakh', 17),
('ethnicity', '18', '傣族', 'Dai', 18),
('ethnicity', '19', '黎族', 'Li', 19),
('ethnicity', '20', '傈僳族', 'Lisu', 20),
('ethnicity', '21', '佤族', 'Va', 21),
('ethnicity', '22', '畲族', 'She', 22),
('ethnicity', '23', '高山族', 'Gaoshan', 23),
('ethnicity', '24', '拉祜族', 'Lahu', 24),
('ethnicity', '25', '水族', 'Sui', 25),
('ethnicity', '26', '东乡族', 'Dongxiang', 26),
('ethnicity', '27', '纳西族', 'Nakhi', 27),
('ethnicity', '28', '景颇族', 'Jingpo', 28),
('ethnicity', '29', '柯尔克孜族', 'Kyrgyz', 29),
('ethnicity', '30', '土族', 'Tu', 30),
('ethnicity', '31', '达斡尔族', 'Daur', 31),
('ethnicity', '32', '仫佬族', 'Mulao', 32),
('ethnicity', '33', '羌族', 'Qiang', 33),
('ethnicity', '34', '布朗族', 'Blang', 34),
('ethnicity', '35', '撒拉族', 'Salar', 35),
('ethnicity', '36', '毛南族', 'Maonan', 36),
('ethnicity', '37', '仡佬族', 'Gelao', 37),
('ethnicity', '38', '锡伯族', 'Xibe', 38),
('ethnicity', '39', '阿昌族', 'Achang', 39),
('ethnicity', '40', '普米族', 'Pumi', 40),
('ethnicity', '41', '塔吉克族', 'Tajik', 41),
('ethnicity', '42', '怒族', 'Nu', 42),
('ethnicity', '43', '乌孜别克族', 'Uzbek', 43),
('ethnicity', '44', '俄罗斯族', 'Russian', 44),
('ethnicity', '45', '鄂温克族', 'Evenki', 45),
('ethnicity', '46', '德昂族', 'Deang', 46),
('ethnicity', '47', '保安族', 'Bonan', 47),
('ethnicity', '48', '裕固族', 'Yugur', 48),
('ethnicity', '49', '京族', 'Gin', 49),
('ethnicity', '50', '塔塔尔族', 'Tatar', 50),
('ethnicity', '51', '独龙族', 'Derung', 51),
('ethnicity', '52', '鄂伦春族', 'Oroqen', 52),
('ethnicity', '53', '赫哲族', 'Hezhen', 53),
('ethnicity', '54', '门巴族', 'Monpa', 54),
('ethnicity', '55', '珞巴族', 'Lhoba', 55),
('ethnicity', '56', '基诺族', 'Jino', 56),
('ethnicity', '98', '外国血统', 'Of foreign origin', 98),
('ethnicity', '97', '其他', 'Other', 99);

-- 证件类型: the codes are those of domain::values::IdType.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('id_type', 'resident_id', '居民身份证', 'Resident identity card', 10),
('id_type', 'passport', '护照', 'Passport', 20),
('id_type', 'hk_macao_permit', '港澳居民来往内地通行证', 'Mainland travel permit for Hong Kong and Macao residents', 30),
('id_type', 'taiwan_permit', '台湾居民来往大陆通行证', 'Mainland travel permit for Taiwan residents', 40),
('id_type', 'other', '其他', 'Other', 90);

-- 政治面貌.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('political_status', 'cpc_member', '中共党员', 'CPC member', 10),
('political_status', 'cpc_probationary', '中共预备党员', 'CPC probationary member', 20),
('political_status', 'cyl_member', '共青团员', 'Communist Youth League member', 30),
('political_status', 'democratic_party', '民主党派', 'Member of a democratic party', 40),
('political_status', 'non_party', '无党派人士', 'Without party affiliation (public figure)', 50),
('political_status', 'masses', '群众', 'Ordinary citizen', 60);

-- 录取类别.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('admission_category', 'unified', '统招', 'Regular admission', 10),
('admission_category', 'targeted', '定向', 'Targeted admission', 20),
('admission_category', 'commissioned', '委培', 'Employer-sponsored', 30),
('admission_category', 'self_financed', '自筹', 'Self-financed', 40),
('admission_category', 'special_plan', '专项计划', 'Special enrolment plan', 50),
('admission_category', 'other', '其他', 'Other', 90);

-- 外语语种.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('language', 'en', '英语', 'English', 10),
('language', 'ja', '日语', 'Japanese', 20),
('language', 'ko', '韩语', 'Korean', 30),
('language', 'fr', '法语', 'French', 40),
('language', 'de', '德语', 'German', 50),
('language', 'es', '西班牙语', 'Spanish', 60),
('language', 'ru', '俄语', 'Russian', 70),
('language', 'it', '意大利语', 'Italian', 80),
('language', 'pt', '葡萄牙语', 'Portuguese', 90),
('language', 'ar', '阿拉伯语', 'Arabic', 100),
('language', 'other', '其他', 'Other', 990);

-- 达标方式 / 成绩要求 (the exam a language level is shown by).
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('exam_type', 'cet4', '大学英语四级（CET-4）', 'CET-4', 10),
('exam_type', 'cet6', '大学英语六级（CET-6）', 'CET-6', 20),
('exam_type', 'tem4', '英语专业四级（TEM-4）', 'TEM-4', 30),
('exam_type', 'tem8', '英语专业八级（TEM-8）', 'TEM-8', 40),
('exam_type', 'toefl', '托福（TOEFL）', 'TOEFL', 50),
('exam_type', 'ielts', '雅思（IELTS）', 'IELTS', 60),
('exam_type', 'gre', 'GRE', 'GRE', 70),
('exam_type', 'gmat', 'GMAT', 'GMAT', 80),
('exam_type', 'duolingo', '多邻国英语测试（Duolingo）', 'Duolingo English Test', 90),
('exam_type', 'jlpt_n1', '日语能力测试 N1', 'JLPT N1', 100),
('exam_type', 'jlpt_n2', '日语能力测试 N2', 'JLPT N2', 110),
('exam_type', 'jlpt_n3', '日语能力测试 N3', 'JLPT N3', 120),
('exam_type', 'jlpt_n4', '日语能力测试 N4', 'JLPT N4', 130),
('exam_type', 'jlpt_n5', '日语能力测试 N5', 'JLPT N5', 140),
('exam_type', 'jtest', '实用日本语检定（J.TEST）', 'J.TEST', 150),
('exam_type', 'topik', '韩国语能力考试（TOPIK）', 'TOPIK', 160),
('exam_type', 'delf', '法语学习文凭（DELF）', 'DELF', 170),
('exam_type', 'dalf', '法语深入学习文凭（DALF）', 'DALF', 180),
('exam_type', 'tcf', '法语知识测试（TCF）', 'TCF', 190),
('exam_type', 'testdaf', '德福考试（TestDaF）', 'TestDaF', 200),
('exam_type', 'dsh', '德国高校入学德语考试（DSH）', 'DSH', 210),
('exam_type', 'goethe', '歌德学院德语证书（Goethe-Zertifikat）', 'Goethe-Zertifikat', 220),
('exam_type', 'dele', '西班牙语水平证书（DELE）', 'DELE', 230),
('exam_type', 'torfl', '对外俄语等级考试（TORFL）', 'TORFL', 240),
('exam_type', 'school_test', '校内语言测试', 'University language test', 900),
('exam_type', 'other', '其他', 'Other', 990);

-- 费用来源 (for each of 往返旅费, 境外住宿, 境外伙食, 城间交通, 注册费, 学费).
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('funding_source', 'csc', '国家留学基金委', 'China Scholarship Council', 10),
('funding_source', 'school', '学校资助', 'University funding', 20),
('funding_source', 'college', '学院资助', 'College funding', 30),
('funding_source', 'supervisor', '导师经费', 'Supervisor''s research funds', 40),
('funding_source', 'host', '对方资助', 'Funded by the host', 50),
('funding_source', 'self', '自费', 'Self-funded', 60),
('funding_source', 'other', '其他(附相关材料)', 'Other (attach documents)', 90);

-- 项目类型.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('program_type', 'credit_exchange', '校际交流学分项目', 'Inter-university credit exchange', 10),
('program_type', 'dual_degree', '校际交流双学位项目', 'Inter-university dual degree', 20),
('program_type', 'semester_exchange', '学期制交换', 'Semester exchange', 30),
('program_type', 'short_term', '寒暑期项目', 'Winter / summer program', 40),
('program_type', 'internship', '实习项目', 'Internship', 50),
('program_type', 'research', '科研训练项目', 'Research training', 60),
('program_type', 'conference', '国际会议', 'International conference', 70),
('program_type', 'self_arranged', '自联项目', 'Self-arranged program', 80);

-- 项目学期.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('semester', 'spring', '春季', 'Spring', 10),
('semester', 'autumn', '秋季', 'Autumn', 20),
('semester', 'winter', '寒假', 'Winter break', 30),
('semester', 'summer', '暑假', 'Summer break', 40);

-- 项目性质.
INSERT INTO dictionary_items (kind, code, label_zh, label_en, sort_order) VALUES
('program_nature', 'school_public', '学校公派', 'University-sponsored', 10),
('program_nature', 'state_public', '国家公派', 'State-sponsored (CSC)', 20),
('program_nature', 'college_public', '学院公派', 'College-sponsored', 30),
('program_nature', 'self_funded', '自费', 'Self-funded', 40),
('program_nature', 'other', '其他', 'Other', 90);

-- Default settings: 每人限报 1 个项目 (active applications per student and round).
INSERT INTO settings (key, value) VALUES
('max_active_per_round', '1');

-- Workflow templates, version 1. Each stage: key, names, the role that decides it, its scope
-- ("college" = the applicant's college only, "all" = every application) and its phase
-- (application | pre_departure | return). The nomination step of semester, dual-degree and
-- HK-Macao-Taiwan programs is a status (待对方学校返回录取结果), not a stage.
INSERT INTO workflow_templates (code, version, name_zh, name_en, stages, created_at) VALUES
('semester_exchange', 1, '学期制交换项目审核流程', 'Semester exchange review', '[{"key":"college_review","name_zh":"学院审核","name_en":"College review","role":"college_reviewer","scope":"college","phase":"application"},{"key":"office_review","name_zh":"国际交流部审核","name_en":"International office review","role":"international_office","scope":"all","phase":"application"},{"key":"academic_first_review","name_zh":"行前阶段教务处初审","name_en":"Pre-departure: academic affairs first review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"academic_second_review","name_zh":"行前阶段教务处复审","name_en":"Pre-departure: academic affairs second review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"foreign_affairs_review","name_zh":"行前阶段外事部门审核","name_en":"Pre-departure: foreign affairs review","role":"foreign_affairs","scope":"all","phase":"pre_departure"},{"key":"return_review","name_zh":"返校总结上报阶段国际处审核","name_en":"Return summary: international office review","role":"international_office","scope":"all","phase":"return"}]', '2026-01-01T00:00:00+00:00'),
('short_term', 1, '寒暑期短期项目审核流程', 'Short-term program review', '[{"key":"college_review","name_zh":"学院审核","name_en":"College review","role":"college_reviewer","scope":"college","phase":"application"},{"key":"office_review","name_zh":"国际交流部审核","name_en":"International office review","role":"international_office","scope":"all","phase":"application"},{"key":"foreign_affairs_review","name_zh":"行前阶段外事部门审核","name_en":"Pre-departure: foreign affairs review","role":"foreign_affairs","scope":"all","phase":"pre_departure"},{"key":"return_review","name_zh":"返校总结上报阶段国际处审核","name_en":"Return summary: international office review","role":"international_office","scope":"all","phase":"return"}]', '2026-01-01T00:00:00+00:00'),
('dual_degree', 1, '双学位项目审核流程', 'Dual degree review', '[{"key":"college_review","name_zh":"学院审核","name_en":"College review","role":"college_reviewer","scope":"college","phase":"application"},{"key":"office_review","name_zh":"国际交流部审核","name_en":"International office review","role":"international_office","scope":"all","phase":"application"},{"key":"academic_first_review","name_zh":"行前阶段教务处初审","name_en":"Pre-departure: academic affairs first review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"academic_second_review","name_zh":"行前阶段教务处复审","name_en":"Pre-departure: academic affairs second review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"foreign_affairs_review","name_zh":"行前阶段外事部门审核","name_en":"Pre-departure: foreign affairs review","role":"foreign_affairs","scope":"all","phase":"pre_departure"},{"key":"return_review","name_zh":"返校总结上报阶段国际处审核","name_en":"Return summary: international office review","role":"international_office","scope":"all","phase":"return"}]', '2026-01-01T00:00:00+00:00'),
('hmt', 1, '港澳台交流项目审核流程', 'Hong Kong, Macao and Taiwan program review', '[{"key":"college_review","name_zh":"学院审核","name_en":"College review","role":"college_reviewer","scope":"college","phase":"application"},{"key":"office_review","name_zh":"国际交流部审核","name_en":"International office review","role":"international_office","scope":"all","phase":"application"},{"key":"academic_first_review","name_zh":"行前阶段教务处初审","name_en":"Pre-departure: academic affairs first review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"academic_second_review","name_zh":"行前阶段教务处复审","name_en":"Pre-departure: academic affairs second review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"foreign_affairs_review","name_zh":"行前阶段外事部门审核","name_en":"Pre-departure: foreign affairs review","role":"foreign_affairs","scope":"all","phase":"pre_departure"},{"key":"return_review","name_zh":"返校总结上报阶段国际处审核","name_en":"Return summary: international office review","role":"international_office","scope":"all","phase":"return"}]', '2026-01-01T00:00:00+00:00'),
('self_arranged', 1, '自联项目审核流程', 'Self-arranged program review', '[{"key":"college_review","name_zh":"学院审核","name_en":"College review","role":"college_reviewer","scope":"college","phase":"application"},{"key":"office_review","name_zh":"国际交流部审核","name_en":"International office review","role":"international_office","scope":"all","phase":"application"},{"key":"academic_first_review","name_zh":"行前阶段教务处初审","name_en":"Pre-departure: academic affairs first review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"academic_second_review","name_zh":"行前阶段教务处复审","name_en":"Pre-departure: academic affairs second review","role":"academic_affairs","scope":"all","phase":"pre_departure"},{"key":"foreign_affairs_review","name_zh":"行前阶段外事部门审核","name_en":"Pre-departure: foreign affairs review","role":"foreign_affairs","scope":"all","phase":"pre_departure"},{"key":"return_review","name_zh":"返校总结上报阶段国际处审核","name_en":"Return summary: international office review","role":"international_office","scope":"all","phase":"return"}]', '2026-01-01T00:00:00+00:00');
