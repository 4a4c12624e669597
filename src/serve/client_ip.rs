//! Who the client of a `/v1/auth` request is, for IP rules
//! (docs/src/owners.md): the peer's address, or, when the peer is a
//! trusted proxy (`--trusted-proxy`), the address in the one header
//! `--client-ip-header` names. Never both headers, and never a header from
//! a peer that is not trusted: a client could write any address there.

use std::net::IpAddr;

use hyper::HeaderMap;

use crate::ip::IpRule;
use crate::serve::access_log::Client;

/// The header a trusted proxy puts the client's address in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientIpHeader {
    /// `X-Forwarded-For`: the rightmost address that is not a trusted
    /// proxy's (each proxy appends the address it was connected from).
    XForwardedFor,
    /// `X-Real-IP`: one address, which the proxy sets.
    XRealIp,
}

/// `--trusted-proxy` and `--client-ip-header`.
#[derive(Debug, Clone, Default)]
pub struct ClientAddress {
    pub trusted: Vec<IpRule>,
    pub header: Option<ClientIpHeader>,
}

impl ClientAddress {
    /// The client's address; `None` when it is unknown (a key with IP
    /// rules is then refused). A peer on a unix socket is a trusted proxy
    /// when a header is configured (only who may open the socket, its
    /// mode says, can connect), else it has no address.
    pub fn of(&self, peer: Client, headers: &HeaderMap) -> Option<IpAddr> {
        let trusted = |ip: IpAddr| self.trusted.iter().any(|r| r.contains(ip));
        let from_proxy = match peer {
            Client::Tcp(addr) => {
                let ip = addr.ip().to_canonical();
                if !trusted(ip) {
                    return Some(ip);
                }
                ip
            }
            Client::Unix if self.header.is_some() => return self.in_header(headers, &trusted),
            Client::Unix => return None,
        };
        match self.header {
            Some(_) => self.in_header(headers, &trusted),
            None => Some(from_proxy),
        }
    }

    fn in_header(&self, headers: &HeaderMap, trusted: &dyn Fn(IpAddr) -> bool) -> Option<IpAddr> {
        let parse = |text: &str| {
            text.trim()
                .parse::<IpAddr>()
                .ok()
                .map(|ip| ip.to_canonical())
        };
        match self.header? {
            ClientIpHeader::XRealIp => {
                let mut values = headers.get_all("x-real-ip").iter();
                let value = values.next()?;
                // Two X-Real-IP headers: one was not the proxy's.
                if values.next().is_some() {
                    return None;
                }
                parse(value.to_str().ok()?)
            }
            ClientIpHeader::XForwardedFor => {
                let mut chain = Vec::new();
                for value in headers.get_all("x-forwarded-for") {
                    for part in value.to_str().ok()?.split(',') {
                        chain.push(parse(part)?);
                    }
                }
                // Right to left: the first address no trusted proxy has;
                // when every one is a proxy's, the leftmost.
                chain
                    .iter()
                    .rev()
                    .find(|ip| !trusted(**ip))
                    .or(chain.first())
                    .copied()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn tcp(ip: &str) -> Client {
        Client::Tcp(std::net::SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn a_header_counts_only_from_a_trusted_proxy() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        let forged = headers(&[("x-real-ip", "10.1.2.3"), ("x-forwarded-for", "10.1.2.3")]);
        // No proxy trusted: the peer, whatever it sent.
        assert_eq!(
            ClientAddress::default().of(tcp("198.51.100.9"), &forged),
            ip("198.51.100.9")
        );
        let real_ip = ClientAddress {
            trusted: vec!["127.0.0.1/32".parse().unwrap()],
            header: Some(ClientIpHeader::XRealIp),
        };
        assert_eq!(real_ip.of(tcp("198.51.100.9"), &forged), ip("198.51.100.9"));
        assert_eq!(real_ip.of(tcp("127.0.0.1"), &forged), ip("10.1.2.3"));
        assert_eq!(real_ip.of(tcp("::ffff:127.0.0.1"), &forged), ip("10.1.2.3"));
        assert_eq!(real_ip.of(tcp("127.0.0.1"), &headers(&[])), None);
        let twice = headers(&[("x-real-ip", "10.1.2.3"), ("x-real-ip", "10.9.9.9")]);
        assert_eq!(real_ip.of(tcp("127.0.0.1"), &twice), None);
        assert_eq!(real_ip.of(Client::Unix, &forged), ip("10.1.2.3"));
        assert_eq!(ClientAddress::default().of(Client::Unix, &forged), None);

        let xff = ClientAddress {
            trusted: vec![
                "127.0.0.1/32".parse().unwrap(),
                "10.0.0.0/8".parse().unwrap(),
            ],
            header: Some(ClientIpHeader::XForwardedFor),
        };
        // The client wrote 203.0.113.5 itself; the proxies appended.
        let chain = headers(&[("x-forwarded-for", "203.0.113.5, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(xff.of(tcp("127.0.0.1"), &chain), ip("198.51.100.7"));
        let all_proxies = headers(&[("x-forwarded-for", "10.0.0.3, 10.0.0.2")]);
        assert_eq!(xff.of(tcp("127.0.0.1"), &all_proxies), ip("10.0.0.3"));
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, nonsense")]);
        assert_eq!(xff.of(tcp("127.0.0.1"), &garbage), None);
    }
}
