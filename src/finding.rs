//! Findings: kinds, confidence, masking and the keyed fingerprint.
//!
//! A finding never carries the full value it was made from: only a masked
//! form (at most four characters shown) and an HMAC-SHA256 fingerprint keyed
//! with a per-install secret, so that the scanner cannot become the next leak.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::text::Location;

/// The kinds of the findings contract (`shared/docs/findings-contract.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    MyNumber,
    CorporateNumber,
    ResidentCode,
    BasicPensionNumber,
    PassportNumber,
    DriversLicenseNumber,
    HealthInsuranceNumber,
    CreditCard,
    BankAccount,
    PhoneNumber,
    EmailAddress,
    PostalAddress,
    BirthDate,
    PersonName,
}

impl Kind {
    /// Every kind, in contract order.
    pub const ALL: [Kind; 14] = [
        Kind::MyNumber,
        Kind::CorporateNumber,
        Kind::ResidentCode,
        Kind::BasicPensionNumber,
        Kind::PassportNumber,
        Kind::DriversLicenseNumber,
        Kind::HealthInsuranceNumber,
        Kind::CreditCard,
        Kind::BankAccount,
        Kind::PhoneNumber,
        Kind::EmailAddress,
        Kind::PostalAddress,
        Kind::BirthDate,
        Kind::PersonName,
    ];

    /// The contract's name of the kind (`my_number`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::MyNumber => "my_number",
            Kind::CorporateNumber => "corporate_number",
            Kind::ResidentCode => "resident_code",
            Kind::BasicPensionNumber => "basic_pension_number",
            Kind::PassportNumber => "passport_number",
            Kind::DriversLicenseNumber => "drivers_license_number",
            Kind::HealthInsuranceNumber => "health_insurance_number",
            Kind::CreditCard => "credit_card",
            Kind::BankAccount => "bank_account",
            Kind::PhoneNumber => "phone_number",
            Kind::EmailAddress => "email_address",
            Kind::PostalAddress => "postal_address",
            Kind::BirthDate => "birth_date",
            Kind::PersonName => "person_name",
        }
    }

    /// The Japanese label shown to records officers.
    pub fn label_ja(self) -> &'static str {
        match self {
            Kind::MyNumber => "個人番号（マイナンバー）",
            Kind::CorporateNumber => "法人番号",
            Kind::ResidentCode => "住民票コード",
            Kind::BasicPensionNumber => "基礎年金番号",
            Kind::PassportNumber => "旅券番号",
            Kind::DriversLicenseNumber => "運転免許証番号",
            Kind::HealthInsuranceNumber => "被保険者番号",
            Kind::CreditCard => "クレジットカード番号",
            Kind::BankAccount => "口座番号",
            Kind::PhoneNumber => "電話番号",
            Kind::EmailAddress => "メールアドレス",
            Kind::PostalAddress => "住所",
            Kind::BirthDate => "生年月日",
            Kind::PersonName => "氏名",
        }
    }

    /// The English label (reports with `--lang en`).
    pub fn label_en(self) -> &'static str {
        match self {
            Kind::MyNumber => "My Number",
            Kind::CorporateNumber => "corporate number",
            Kind::ResidentCode => "resident record code",
            Kind::BasicPensionNumber => "basic pension number",
            Kind::PassportNumber => "passport number",
            Kind::DriversLicenseNumber => "driver's licence number",
            Kind::HealthInsuranceNumber => "health insurance number",
            Kind::CreditCard => "credit card number",
            Kind::BankAccount => "bank account number",
            Kind::PhoneNumber => "phone number",
            Kind::EmailAddress => "e-mail address",
            Kind::PostalAddress => "postal address",
            Kind::BirthDate => "date of birth",
            Kind::PersonName => "person's name",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown kind {s:?} (not a findings-contract kind)"))
    }
}

/// How sure mamori is that a finding is what its kind says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
    pub fn label_ja(self) -> &'static str {
        match self {
            Confidence::Low => "低",
            Confidence::Medium => "中",
            Confidence::High => "高",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            _ => Err(format!("unknown confidence {s:?} (low, medium or high)")),
        }
    }
}

/// The result of validating a candidate value (check digit, date, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Validation {
    Valid,
    Invalid,
    NotApplicable,
}

impl Validation {
    pub fn as_str(self) -> &'static str {
        match self {
            Validation::Valid => "valid",
            Validation::Invalid => "invalid",
            Validation::NotApplicable => "not_applicable",
        }
    }
}

/// Why a finding was made: auditors ask.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// The detector pattern's name.
    pub pattern: Arc<str>,
    pub validation: Validation,
    /// The context word that supported the finding, if any (a label, never a value).
    pub context_word: Option<Arc<str>>,
}

/// One piece of personal information found in a text unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: Kind,
    pub confidence: Confidence,
    pub detector_id: Arc<str>,
    pub detector_version: u32,
    pub location: Location,
    /// The value with all but at most four characters masked.
    pub masked: String,
    /// HMAC-SHA256(secret, kind ‖ 0 ‖ normalised value).
    pub fingerprint: [u8; 32],
    pub explanation: Explanation,
    /// Byte range of the value in its unit's original text (for masking
    /// text in `mamori extract`; never printed as such).
    pub span: std::ops::Range<usize>,
}

/// Masks `value`, showing at most `keep_first` leading and `keep_last`
/// trailing characters (and never more than four, nor more than half of the
/// value's characters). Separators (space, hyphen, dot, slash, colon) are kept
/// so that the shape stays readable: `**** **** 9018`, `山田 **`.
pub fn mask(value: &str, keep_first: usize, keep_last: usize) -> String {
    let is_sep = |c: char| matches!(c, ' ' | '-' | '.' | '/' | ':' | '@' | '\u{3000}');
    let significant = value.chars().filter(|&c| !is_sep(c)).count();
    let budget = 4.min(significant / 2);
    let first = keep_first.min(budget);
    let last = keep_last.min(budget - first);
    let mut seen = 0usize;
    value
        .chars()
        .map(|c| {
            if is_sep(c) {
                return c;
            }
            seen += 1;
            if seen <= first || seen > significant - last {
                c
            } else {
                '*'
            }
        })
        .collect()
}

/// Computes keyed fingerprints of values. The key is per install and secret:
/// a plain hash of a 12-digit number could be brute-forced (10¹²).
#[derive(Clone)]
pub struct Fingerprinter {
    /// HMAC state with the key already absorbed (cloned per value: saves
    /// two of the four SHA-256 compressions of a short message).
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Fingerprinter { key: <secret> }")
    }
}

impl Fingerprinter {
    pub fn new(key: [u8; 32]) -> Self {
        Fingerprinter {
            keyed: <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length"),
        }
    }

    /// A value that identifies the key without revealing it: a store
    /// records it and refuses another key, whose fingerprints would not match.
    pub fn key_check(&self) -> String {
        let mut mac = self.keyed.clone();
        mac.update(b"mamori key check v1");
        hex::encode(&mac.finalize().into_bytes()[..8])
    }

    pub fn fingerprint(&self, kind: Kind, normalized_value: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(kind.as_str().as_bytes());
        mac.update(&[0]);
        mac.update(normalized_value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_my_number_keeps_last_four() {
        assert_eq!(mask("1234 5678 9018", 0, 4), "**** **** 9018");
        assert_eq!(mask("123456789018", 0, 4), "********9018");
    }

    #[test]
    fn mask_name_keeps_surname() {
        assert_eq!(mask("山田 太郎", 2, 0), "山田 **");
        // A two-character name shows at most one character.
        assert_eq!(mask("林彩", 2, 0), "林*");
    }

    #[test]
    fn mask_never_shows_more_than_four_or_half() {
        let m = mask("東京都千代田区霞が関三丁目1番1号", 8, 0);
        assert_eq!(m.chars().filter(|&c| c != '*').count(), 4);
        assert_eq!(mask("12", 0, 4), "*2");
        assert_eq!(mask("1", 0, 4), "*");
    }

    #[test]
    fn kinds_round_trip() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        assert!("unreadable".parse::<Kind>().is_err());
    }

    #[test]
    fn fingerprint_is_keyed() {
        let a = Fingerprinter::new([1; 32]).fingerprint(Kind::MyNumber, "123456789018");
        let b = Fingerprinter::new([2; 32]).fingerprint(Kind::MyNumber, "123456789018");
        let c = Fingerprinter::new([1; 32]).fingerprint(Kind::PhoneNumber, "123456789018");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            Fingerprinter::new([1; 32]).fingerprint(Kind::MyNumber, "123456789018")
        );
    }
}
