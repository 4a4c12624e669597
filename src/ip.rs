//! IP rules (docs/src/owners.md): the client addresses a key or an owner
//! may be used from, as CIDR ranges. An IPv4-mapped IPv6 address
//! (`::ffff:10.1.2.3`) is the IPv4 address it maps, in rules and in
//! clients alike.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The most rules one key or owner holds.
pub const MAX_RULES: usize = 64;

/// One range: `10.0.0.0/8`, `2001:db8::/32`; a bare address is the range
/// of that address alone. Kept with the bits past the prefix cleared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRule {
    net: IpAddr,
    prefix: u8,
}

impl IpRule {
    /// Whether `ip` is in this range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(ip)), 32, self.prefix) == u128::from(u32::from(net))
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(ip), 128, self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// `bits` with all but the first `prefix` of its `width` bits cleared.
fn masked(bits: u128, width: u8, prefix: u8) -> u128 {
    if prefix == 0 {
        return 0;
    }
    let keep = u32::from(width - prefix);
    (bits >> keep) << keep
}

impl FromStr for IpRule {
    type Err = ();

    fn from_str(raw: &str) -> Result<Self, ()> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (raw, None),
        };
        let net = addr.parse::<IpAddr>().map_err(drop)?.to_canonical();
        let width = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().map_err(drop)?
            }
            Some(_) => return Err(()),
        };
        if prefix > width {
            return Err(());
        }
        let net = match net {
            IpAddr::V4(v4) => {
                IpAddr::V4((masked(u128::from(u32::from(v4)), 32, prefix) as u32).into())
            }
            IpAddr::V6(v6) => IpAddr::V6(masked(u128::from(v6), 128, prefix).into()),
        };
        Ok(IpRule { net, prefix })
    }
}

impl fmt::Display for IpRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// Whether `rules` let a client at `ip` through: no rules let everyone;
/// with rules, an unknown address is refused (fail closed).
pub fn allows(rules: &[IpRule], ip: Option<IpAddr>) -> bool {
    rules.is_empty() || ip.is_some_and(|ip| rules.iter().any(|r| r.contains(ip)))
}

/// The rules as stored: space-separated, `None` for none.
pub fn stored(rules: &[IpRule]) -> Option<String> {
    (!rules.is_empty()).then(|| {
        rules
            .iter()
            .map(IpRule::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// The rules from their stored text (what does not read is dropped: only
/// keysmith writes it).
pub fn from_stored(text: Option<&str>) -> Vec<IpRule> {
    text.map_or_else(Vec::new, |t| {
        t.split(' ').filter_map(|r| r.parse().ok()).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> IpRule {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ranges_contain_their_addresses_ipv4_mapped_included() {
        let office = rule("203.0.113.0/24");
        assert!(office.contains(ip("203.0.113.7")));
        assert!(office.contains(ip("::ffff:203.0.113.7")));
        assert!(!office.contains(ip("203.0.114.7")));
        assert!(!office.contains(ip("2001:db8::1")));
        assert_eq!(rule("::ffff:10.1.2.3/32"), rule("10.1.2.3"));
        assert_eq!(rule("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert!(rule("2001:db8::/32").contains(ip("2001:db8:ffff::1")));
        assert!(!rule("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(rule("0.0.0.0/0").contains(ip("192.0.2.1")));
        assert!(rule("::/0").contains(ip("::1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "x",
            "",
        ] {
            assert!(bad.parse::<IpRule>().is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_fail_closed_without_an_address() {
        let rules = [rule("10.0.0.0/8")];
        assert!(allows(&[], None));
        assert!(!allows(&rules, None));
        assert!(allows(&rules, Some(ip("10.9.9.9"))));
        assert!(!allows(&rules, Some(ip("11.0.0.1"))));
        assert_eq!(from_stored(stored(&rules).as_deref()), rules);
    }
}
