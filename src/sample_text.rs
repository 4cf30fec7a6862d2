//! Generated Japanese text for benchmarks and tests: administrative prose
//! without identifiers, and resident-list records dense with them. It lives
//! in the library (not in `mamori bench`) because the detection engine's own
//! tests compare findings on the same text the benchmark measures.

/// Sentences of the kind a city office writes; they contain dates, article
/// numbers and amounts but no personal identifiers.
pub const PROSE: &[&str] = &[
    "本市では、令和6年度の予算編成にあたり、市民サービスの向上と財政の健全化を両立させることを基本方針としています。",
    "公文書の管理に関する条例第5条の規定により、各課は文書の保存期間を定め、適切に管理しなければなりません。",
    "市政情報公開請求書を受け付けた場合は、受付日から起算して14日以内に開示決定等を行うものとします。",
    "防災訓練は毎年9月に実施しており、今年度は約1,200名の市民が参加しました。",
    "ごみの分別方法が変更になりましたので、各家庭に配布したパンフレットをご確認ください。",
    "子育て支援センターでは、乳幼児を持つ保護者を対象とした相談事業を行っています。",
    "道路の補修工事に伴い、第2週の平日は午前9時から午後5時まで片側交互通行となります。",
    "会議録は、議事の経過及び結果を記録し、委員長の確認を経て公開するものとする。",
    "図書館の開館時間は、火曜日から日曜日までの午前10時から午後7時までです。",
    "本事業の実施により、地域経済の活性化と雇用の創出が期待されます。",
    "委託契約の締結に際しては、地方自治法施行令第167条の2の規定に基づき随意契約とした。",
    "高齢者の見守り活動について、民生委員と地域包括支援センターが連携して取り組んでいます。",
    "庁内の情報セキュリティ研修を全職員対象に実施し、受講率は98パーセントとなった。",
    "公共施設の長寿命化計画に基づき、今後10年間で計画的な改修を進めます。",
    "特定個人情報の取扱いに関する基本方針を改定し、事務取扱担当者の範囲を明確にした。",
];

const SURNAMES: &[&str] = &[
    "山田", "佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "中村",
];
const GIVEN: &[&str] = &[
    "太郎",
    "花子",
    "一郎",
    "美咲",
    "翔太",
    "さくら",
    "健",
    "由美",
];
const PLACES: &[&str] = &[
    "東京都千代田区霞が関三丁目1番1号",
    "大阪府大阪市北区中之島1-3-20",
    "神奈川県横浜市中区本町6-50-10",
    "愛知県名古屋市中区三の丸三丁目1番1号",
];

/// A small deterministic generator: the same text on every run and machine.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[(self.next_u64() as usize) % v.len()]
    }
}

/// A valid My Number from 11 digits (for generated test data only).
pub fn my_number_from(base11: u64) -> String {
    let s = format!("{:011}", base11 % 100_000_000_000);
    const W: [u32; 11] = [6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = s.bytes().zip(W).map(|(b, w)| (b - b'0') as u32 * w).sum();
    let r = sum % 11;
    format!("{s}{}", if r <= 1 { 0 } else { 11 - r })
}

/// Administrative prose without identifiers, about `bytes` long.
pub fn prose_corpus(bytes: usize) -> String {
    let mut rng = Lcg(20240401);
    let mut s = String::with_capacity(bytes + 512);
    while s.len() < bytes {
        s.push_str(rng.pick(PROSE));
        if rng.next_u64().is_multiple_of(4) {
            s.push('\n');
        }
    }
    s
}

/// Resident-list records, each with a name, birth date, address, phone and
/// My Number, about `bytes` long.
pub fn dense_corpus(bytes: usize) -> String {
    let mut rng = Lcg(7);
    let mut s = String::with_capacity(bytes + 512);
    while s.len() < bytes {
        let mn = my_number_from(rng.next_u64() * 1_000 + rng.next_u64());
        s.push_str(&format!(
            "氏名：{} {}　生年月日：昭和{}年{}月{}日　住所：{}　電話：090-{:04}-{:04}　個人番号：{} {} {}\n",
            rng.pick(SURNAMES),
            rng.pick(GIVEN),
            30 + rng.next_u64() % 30,
            1 + rng.next_u64() % 12,
            1 + rng.next_u64() % 28,
            rng.pick(PLACES),
            rng.next_u64() % 10_000,
            rng.next_u64() % 10_000,
            &mn[..4],
            &mn[4..8],
            &mn[8..],
        ));
    }
    s
}
