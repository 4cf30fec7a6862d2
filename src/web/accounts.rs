//! Accounts of the review screen: roles, password hashing (argon2id) and
//! the rules a name and a password must follow. Shared by `mamori user`
//! (the command line) and the user admin page; the rows live in the store
//! (`store::web`).

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;

/// What a user may do. Each role may do what the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
#[value(rename_all = "lowercase")]
pub enum Role {
    /// Read: dashboards, lists, file pages, exports.
    Viewer,
    /// Also decide on findings.
    Reviewer,
    /// Also manage users.
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Reviewer, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Role::Viewer => "閲覧者",
            Role::Reviewer => "確認担当",
            Role::Admin => "管理者",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may record decisions.
    pub fn may_decide(self) -> bool {
        self >= Role::Reviewer
    }

    pub fn may_admin(self) -> bool {
        self == Role::Admin
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?} (viewer, reviewer or admin)"))
    }
}

/// Why a name or password is refused, or a hash cannot be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountRuleError {
    #[error(
        "a user name is 1 to 64 characters: letters, digits, '.', '_', '-' (no spaces or controls)"
    )]
    BadName,
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    ShortPassword,
    #[error("a password is at most {MAX_PASSWORD_BYTES} bytes")]
    LongPassword,
    #[error("password hashing failed")]
    Hash,
}

/// The shortest password accepted (characters).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest (bytes): argon2 takes any length, but a login form should
/// not make the server hash megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks a user name: it is shown in pages and the trail, so it is kept
/// plain (Japanese names are fine; markup and control characters are not).
pub fn check_name(name: &str) -> Result<(), AccountRuleError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AccountRuleError::BadName)
    }
}

pub fn check_password(password: &str) -> Result<(), AccountRuleError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountRuleError::LongPassword);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountRuleError::ShortPassword);
    }
    Ok(())
}

/// An argon2id PHC string of `password` with a random salt (the crate's
/// default parameters: 19 MiB, 2 passes, 1 lane, OWASP's recommendation).
pub fn hash_password(password: &str) -> Result<String, AccountRuleError> {
    check_password(password)?;
    let mut salt = [0u8; 16];
    getrandom::getrandom(&mut salt).map_err(|_| AccountRuleError::Hash)?;
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| AccountRuleError::Hash)?;
    Ok(hash.to_string())
}

/// Whether `password` matches the stored PHC string (with its own
/// parameters). A malformed stored hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(stored) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the name is no account's, so that a
/// wrong name takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never valid").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterz", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
        assert_eq!(hash_password("short"), Err(AccountRuleError::ShortPassword));
    }

    #[test]
    fn names_are_plain() {
        assert!(check_name("sato.k").is_ok());
        assert!(check_name("佐藤").is_ok());
        for bad in ["", "a b", "<script>", "a\u{202e}b", "a/b", &"x".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_are_ordered() {
        assert!(!Role::Viewer.may_decide());
        assert!(Role::Reviewer.may_decide() && !Role::Reviewer.may_admin());
        assert!(Role::Admin.may_decide() && Role::Admin.may_admin());
        assert_eq!("reviewer".parse::<Role>(), Ok(Role::Reviewer));
    }
}
