//! Who is asking: passwords, server-side sessions, CSRF tokens and the roles a person holds.
//!
//! Sign-in is local today (user name = student or staff number); single sign-on will enter
//! through [`crate::services::accounts::sign_in_verified`], which every path ends in.

pub mod csrf;
pub mod password;
pub mod session;

pub use crate::domain::status::Role;

/// The roles of a person, with the scope that matters for queries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }
    pub fn is_student(&self) -> bool {
        self.has(Role::Student)
    }
    /// Anyone who works for the university side.
    pub fn is_staff(&self) -> bool {
        self.0
            .iter()
            .any(|r| *r != Role::Student && *r != Role::Partner)
    }
    /// The international office's rights: the office itself or an admin.
    pub fn is_office(&self) -> bool {
        self.has(Role::InternationalOffice) || self.has(Role::Admin)
    }
}

/// Stable role codes stored in `user_roles.role`.
pub fn role_code(role: Role) -> &'static str {
    match role {
        Role::Student => "student",
        Role::CollegeReviewer => "college_reviewer",
        Role::InternationalOffice => "international_office",
        Role::AcademicAffairs => "academic_affairs",
        Role::ForeignAffairs => "foreign_affairs",
        Role::Admin => "admin",
        Role::Partner => "partner",
    }
}

pub fn role_from_code(code: &str) -> Option<Role> {
    Some(match code {
        "student" => Role::Student,
        "college_reviewer" => Role::CollegeReviewer,
        "international_office" => Role::InternationalOffice,
        "academic_affairs" => Role::AcademicAffairs,
        "foreign_affairs" => Role::ForeignAffairs,
        "admin" => Role::Admin,
        "partner" => Role::Partner,
        _ => return None,
    })
}

/// The catalogue key of a role's name.
pub fn role_key(role: Role) -> &'static str {
    match role {
        Role::Student => "role.student",
        Role::CollegeReviewer => "role.college_reviewer",
        Role::InternationalOffice => "role.international_office",
        Role::AcademicAffairs => "role.academic_affairs",
        Role::ForeignAffairs => "role.foreign_affairs",
        Role::Admin => "role.admin",
        Role::Partner => "role.partner",
    }
}
