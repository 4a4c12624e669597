//! The key format of SPEC §1: minting, parsing, checksum, masking and hashing.
//! Pure functions, no I/O.

use std::fmt;

use rand::{CryptoRng, Rng};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// The base62 alphabet, in the order the checksum encoding relies on.
pub const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const DEFAULT_PREFIX: &str = "ks";
pub const ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 32;
pub const CHECK_LEN: usize = 6;
pub const MAX_PREFIX_LEN: usize = 16;
/// What stands for the secret in the masked form of a key.
pub const MASK: &str = "********";

/// SHA-256 of the full key string: all the store ever keeps of a key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyHash(pub [u8; 32]);

impl KeyHash {
    pub fn of(full_key: &str) -> Self {
        KeyHash(Sha256::digest(full_key.as_bytes()).into())
    }

    /// Constant-time, so a timing side channel cannot reveal how much of a digest matched.
    pub fn matches(&self, other: &KeyHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(..)")
    }
}

/// A full key. Zeroized on drop; no `Display`, a redacted `Debug`, no `Serialize`,
/// so it reaches output only through an explicit `expose()`.
pub struct SecretKey(Zeroizing<String>);

impl SecretKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([REDACTED])")
    }
}

/// A freshly minted key: the secret to show once, and its public parts.
#[derive(Debug)]
pub struct MintedKey {
    pub secret: SecretKey,
    pub id: String,
    pub prefix: String,
    pub hash: KeyHash,
}

/// The public parts of a well-formed key string (shape and checksum correct).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedKey {
    pub prefix: String,
    pub id: String,
    pub hash: KeyHash,
}

impl ParsedKey {
    pub fn masked(&self) -> String {
        masked(&self.prefix, &self.id)
    }
}

/// `<prefix>_<id>_********`: the only form of a key shown after creation.
pub fn masked(prefix: &str, id: &str) -> String {
    format!("{prefix}_{id}_{MASK}")
}

pub fn is_valid_prefix(prefix: &str) -> bool {
    let bytes = prefix.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_PREFIX_LEN
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `s` has the shape of a key id (not whether one exists).
pub fn is_id_shaped(s: &str) -> bool {
    s.len() == ID_LEN && is_base62(s)
}

/// CRC32 (IEEE) of `body`, in base62, left-padded with `0` to six characters.
pub fn checksum(body: &str) -> [u8; CHECK_LEN] {
    let mut value = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(value % 62) as usize];
        value /= 62;
    }
    out
}

/// Fills `out` with random base62 characters, each equally likely: random
/// bytes below 248 (4 x 62) taken modulo 62, the others drawn again. A byte
/// at a time instead of one `random_range` call per character: bulk
/// creation draws 44 characters a key, twice.
fn fill_base62<R: Rng + ?Sized>(rng: &mut R, out: &mut [u8]) {
    let mut pool = Zeroizing::new([0u8; SECRET_LEN]);
    let mut filled = 0;
    while filled < out.len() {
        let want = (out.len() - filled).min(pool.len());
        rng.fill_bytes(&mut pool[..want]);
        for &byte in pool[..want].iter().filter(|&&b| b < 248) {
            out[filled] = BASE62[usize::from(byte % 62)];
            filled += 1;
        }
    }
}

pub fn random_id() -> String {
    // ThreadRng is a CSPRNG (ChaCha, reseeded from the OS).
    let mut id = [0u8; ID_LEN];
    fill_base62(&mut rand::rng(), &mut id);
    id.iter().map(|&b| b as char).collect()
}

/// The secret part of a key, zeroized on drop.
pub type SecretChars = Zeroizing<[u8; SECRET_LEN]>;

/// Draws a secret from `rng`, which must be a CSPRNG. Bulk creation passes a
/// seeded one so that it can draw the same secrets again after its commit.
pub fn random_secret<R: CryptoRng + ?Sized>(rng: &mut R) -> SecretChars {
    let mut secret = Zeroizing::new([0u8; SECRET_LEN]);
    fill_base62(rng, &mut secret[..]);
    secret
}

/// The secret drawn for `id` from `seed`, a secret random seed: the same
/// seed and id always give the same secret, and without the seed nothing
/// about it can be told. Bulk creation shows keys only after its commit
/// without holding them all: it draws each again, by its id, for the rows
/// it reads back (in whatever order the store returns them).
pub fn derived_secret(seed: &[u8; 32], id: &str) -> SecretChars {
    use rand::SeedableRng;
    let mut material = Sha256::new();
    material.update(seed);
    material.update(id.as_bytes());
    let derived = Zeroizing::new(<[u8; 32]>::from(material.finalize()));
    random_secret(&mut rand::rngs::StdRng::from_seed(*derived))
}

/// Mints a key with a fresh random id and secret. `prefix` must be valid.
pub fn mint(prefix: &str) -> MintedKey {
    mint_with_id(prefix, random_id())
}

/// Mints a key for a chosen id (the caller retries with a new id on a collision).
pub fn mint_with_id(prefix: &str, id: String) -> MintedKey {
    assemble(prefix, id, &random_secret(&mut rand::rng()))
}

/// Puts a key together from its parts and computes its checksum and hash.
pub fn assemble(prefix: &str, id: String, secret: &[u8; SECRET_LEN]) -> MintedKey {
    debug_assert!(is_valid_prefix(prefix) && is_id_shaped(&id));
    let mut full = Zeroizing::new(String::with_capacity(
        prefix.len() + 2 + ID_LEN + SECRET_LEN + CHECK_LEN,
    ));
    full.push_str(prefix);
    full.push('_');
    full.push_str(&id);
    full.push('_');
    full.extend(secret.iter().map(|&b| b as char));
    let check = checksum(&full);
    full.extend(check.iter().map(|&b| b as char));
    let hash = KeyHash::of(&full);
    MintedKey {
        secret: SecretKey(full),
        id,
        prefix: prefix.to_owned(),
        hash,
    }
}

/// Splits a key-shaped string into prefix, id and the 38-character tail, checking
/// only the shape. Shared by `parse` and by the masking of untrusted input.
fn split_shape(s: &str) -> Option<(&str, &str, &str)> {
    let (prefix, rest) = s.split_once('_')?;
    if !is_valid_prefix(prefix) || rest.len() != ID_LEN + 1 + SECRET_LEN + CHECK_LEN {
        return None;
    }
    let (id, rest) = rest.split_at_checked(ID_LEN)?;
    let tail = rest.strip_prefix('_')?;
    (is_base62(id) && is_base62(tail)).then_some((prefix, id, tail))
}

/// Parses a full key: `None` when its shape or checksum is wrong (MALFORMED).
pub fn parse(s: &str) -> Option<ParsedKey> {
    let (prefix, id, tail) = split_shape(s)?;
    let body_len = s.len() - CHECK_LEN;
    if checksum(&s[..body_len]) != tail.as_bytes()[SECRET_LEN..] {
        return None;
    }
    Some(ParsedKey {
        prefix: prefix.to_owned(),
        id: id.to_owned(),
        hash: KeyHash::of(s),
    })
}

/// A base62 run at least this long after `_<id>_` is masked: a key has 38
/// characters there, and a truncated or mistyped one that still holds 16
/// characters of its secret is masked too.
pub const MIN_MASKED_RUN: usize = 16;

/// How many layers of percent-encoding `redact` looks through (`%5F`, `%255F`...).
const PERCENT_LAYERS: usize = 3;

/// `text` with every secret in it masked: the one guard for any text
/// keysmith shows but did not write itself (an argument quoted in an error,
/// a clap message, a path in a warning or in `scan`'s report, a name from the
/// store).
///
/// Wherever `_<id>_` (12 base62 characters between underscores) is followed by
/// a run of at least `MIN_MASKED_RUN` base62 characters, the run is replaced by
/// `********`, whatever stands before or after it. So every key, valid or not,
/// glued to other text or not, becomes `<prefix>_<id>_********`; a run longer
/// than a key is masked whole. A shorter run is masked when a key prefix
/// starts the word before `_<id>_` (a truncated key: `ks_4fQ8xW2mLp0Z_Yb7d`).
/// Percent-encoded characters (`ks%5F...`, a key
/// split by `%41`) are decoded first, up to three layers deep.
///
/// Linear in the length of `text`; text without `_` or `%` is returned as is.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    let bytes = text.as_bytes();
    if !bytes.iter().any(|&b| b == b'_' || b == b'%') {
        return Cow::Borrowed(text);
    }
    let decoded = bytes.contains(&b'%').then(|| PercentView::new(bytes));
    let runs = secret_runs(decoded.as_ref().map_or(bytes, |d| &d.bytes));
    if runs.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    for run in runs {
        // From the `_` after the id to the run's end, in `text`. Both ends are
        // ASCII bytes (or `%XX` escapes of them), so they are char boundaries.
        let (start, end) = match &decoded {
            Some(d) => (d.origin[run.start].0, d.origin[run.end - 1].1),
            None => (run.start, run.end),
        };
        out.push_str(&text[shown..start]);
        out.push('_');
        out.push_str(MASK);
        shown = end;
    }
    out.push_str(&text[shown..]);
    Cow::Owned(out)
}

/// The ranges of `text`, each from the `_` that ends an id to the end of the
/// base62 run after it, that `redact` masks. In order, never overlapping.
fn secret_runs(text: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].iter().position(|&b| b == b'_') {
        let first = from + at;
        from = first + 1;
        let second = first + 1 + ID_LEN;
        if text.get(second) != Some(&b'_')
            || !text[first + 1..second]
                .iter()
                .all(u8::is_ascii_alphanumeric)
        {
            continue;
        }
        let run = text[second + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if run >= MIN_MASKED_RUN {
            let end = second + 1 + run;
            runs.push(second..end);
            // The run holds no `_`, so no other id starts inside it.
            from = end;
        } else if run > 0 && starts_like_a_key(text, first, second) {
            runs.push(second..second + 1 + run);
            // A short run may itself be the id of a key that follows it.
            from = second;
        }
    }
    runs
}

/// Whether a key prefix ends at `underscore`, starts the word it is in, and
/// the id after it looks random (not all lowercase, as words are, and as a
/// random id is about once in 30,000): then even a short run after
/// `<prefix>_<id>_` is a truncated secret (a cut-off selector), masked too.
fn starts_like_a_key(text: &[u8], underscore: usize, id_end: usize) -> bool {
    let id = &text[underscore + 1..id_end];
    if id.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let word = text[..underscore]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let prefix = &text[underscore - word..underscore];
    word > 0 && std::str::from_utf8(prefix).is_ok_and(is_valid_prefix)
}

/// Text with its `%XX` escapes of base62 characters, `_` and `%` decoded,
/// layer after layer, and for each decoded byte the range of the original
/// text it came from.
struct PercentView {
    bytes: Vec<u8>,
    origin: Vec<(usize, usize)>,
}

impl PercentView {
    fn new(text: &[u8]) -> Self {
        let mut view = PercentView {
            bytes: text.to_vec(),
            origin: (0..text.len()).map(|i| (i, i + 1)).collect(),
        };
        for _ in 0..PERCENT_LAYERS {
            if !view.decode_layer() {
                break;
            }
        }
        view
    }

    /// Decodes one layer of escapes; whether there was any.
    fn decode_layer(&mut self) -> bool {
        let (mut bytes, mut origin) = (Vec::with_capacity(self.bytes.len()), Vec::new());
        let mut decoded_any = false;
        let mut i = 0;
        while i < self.bytes.len() {
            let escaped = match self.bytes[i..] {
                [b'%', high, low, ..] => hex(high)
                    .zip(hex(low))
                    .map(|(high, low)| high << 4 | low)
                    .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'%'),
                _ => None,
            };
            match escaped {
                Some(b) => {
                    bytes.push(b);
                    origin.push((self.origin[i].0, self.origin[i + 2].1));
                    decoded_any = true;
                    i += 3;
                }
                None => {
                    bytes.push(self.bytes[i]);
                    origin.push(self.origin[i]);
                    i += 1;
                }
            }
        }
        (self.bytes, self.origin) = (bytes, origin);
        decoded_any
    }
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC_EXAMPLE: &str = "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6";

    #[test]
    fn spec_example_is_valid() {
        let body = &SPEC_EXAMPLE[..SPEC_EXAMPLE.len() - CHECK_LEN];
        assert_eq!(crc32fast::hash(body.as_bytes()), 0xa485fc3c);
        assert_eq!(&checksum(body), b"30nhd6");
        let parsed = parse(SPEC_EXAMPLE).expect("spec example parses");
        assert_eq!(parsed.prefix, "ks");
        assert_eq!(parsed.id, "4fQ8xW2mLp0Z");
        assert_eq!(parsed.masked(), "ks_4fQ8xW2mLp0Z_********");
    }

    #[test]
    fn rejects_bad_shapes() {
        for bad in [
            "",
            "ks",
            "ks_",
            "KS_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6",
            "ks-4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhd6",
            &SPEC_EXAMPLE[..SPEC_EXAMPLE.len() - 1],
            &format!("{SPEC_EXAMPLE}0"),
            &format!(" {SPEC_EXAMPLE}"),
            "ks_4fQ8xW2mLp0Z_Yb7dK3nR9sT1vX5zC8eG2hJ6kM0pQ4wE30nhé",
        ] {
            assert!(parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let minted = mint("ks");
        let shown = format!("{minted:?}");
        assert!(!shown.contains(&minted.secret.expose()[16..]));
    }

    #[test]
    fn base62_characters_are_equally_likely() {
        let mut rng = rand::rng();
        let mut counts = [0u32; 62];
        let mut chars = [0u8; 62 * 1000];
        fill_base62(&mut rng, &mut chars);
        for c in chars {
            counts[BASE62.iter().position(|&b| b == c).expect("base62")] += 1;
        }
        // 1000 expected each, with a standard deviation of about 31: a
        // count more than 6 of those away is a bias, not bad luck.
        for (i, count) in counts.iter().enumerate() {
            assert!(
                (810..=1190).contains(count),
                "{} drawn {count} times",
                BASE62[i] as char
            );
        }
    }

    fn prefix_strategy() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9]{0,15}"
    }

    proptest! {
        #[test]
        fn minted_keys_round_trip(prefix in prefix_strategy()) {
            let minted = mint(&prefix);
            let parsed = parse(minted.secret.expose()).expect("a minted key parses");
            prop_assert_eq!(&parsed.prefix, &prefix);
            prop_assert_eq!(&parsed.id, &minted.id);
            prop_assert!(parsed.hash.matches(&minted.hash));
        }

        #[test]
        fn any_substitution_fails(prefix in prefix_strategy(), pos in any::<prop::sample::Index>(), pick in 0usize..62) {
            let minted = mint(&prefix);
            let key = minted.secret.expose();
            let i = pos.index(key.len());
            let mut bytes = key.as_bytes().to_vec();
            let replacement = if bytes[i] == b'_' { b'A' } else { BASE62[pick] };
            prop_assume!(replacement != bytes[i]);
            bytes[i] = replacement;
            prop_assert!(parse(std::str::from_utf8(&bytes).unwrap()).is_none());
        }

        #[test]
        fn any_transposition_fails(prefix in prefix_strategy(), pos in any::<prop::sample::Index>()) {
            let minted = mint(&prefix);
            let key = minted.secret.expose();
            let i = pos.index(key.len() - 1);
            let mut bytes = key.as_bytes().to_vec();
            prop_assume!(bytes[i] != bytes[i + 1]);
            bytes.swap(i, i + 1);
            prop_assert!(parse(std::str::from_utf8(&bytes).unwrap()).is_none());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = parse(&s);
        }
    }
}
