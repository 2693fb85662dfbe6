//! The one room for HTTP calls cohort makes to other hosts: connect and total timeouts, a cap
//! on the answer's size, no redirects, TLS by rustls, and an address policy checked on the
//! addresses a name *resolves* to at connect time, so that a name cannot rebind around it.
//! Calls block, so they run on the blocking pool.

use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// Where cohort may call out to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// A tenant's identity provider: https to any host; plain http only to this machine
    /// (development and tests).
    IdentityProvider,
    /// A webhook subscriber: http or https to public addresses only; loopback, private,
    /// link-local and other special addresses are refused unless `allow_private`.
    Webhook {
        /// Whether private and loopback addresses may be reached (a deployment's choice).
        allow_private: bool,
    },
}

impl Policy {
    /// Whether the policy admits `url` as written: its scheme and, when it names one, its
    /// address. The addresses a name resolves to are checked again at every call.
    pub fn admits(self, url: &str) -> Result<(), OutboundError> {
        self.reach(url).map(|_| ())
    }

    fn reach(self, url: &str) -> Result<Reach, OutboundError> {
        let refused = |why: &str| Err(OutboundError::Refused(format!("`{}` {why}", shorten(url))));
        if url.len() > MAX_URL || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return refused("is not a URL cohort calls");
        }
        let (secure, rest) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(rest), _) => (true, rest),
            (None, Some(rest)) => (false, rest),
            _ => return refused("is neither https nor http"),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host_of(authority);
        if host.is_empty() || authority.contains('@') {
            return refused("names no host (or carries credentials)");
        }
        let literal = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().ok();
        let reach = match self {
            Policy::IdentityProvider if secure => Reach::Any,
            Policy::IdentityProvider => {
                if !(matches!(host, "localhost") || literal.is_some_and(|a| a.is_loopback())) {
                    return refused("is not https (plain http reaches only this machine)");
                }
                Reach::LoopbackOnly
            }
            Policy::Webhook { allow_private: true } => Reach::Any,
            Policy::Webhook { allow_private: false } => Reach::PublicOnly,
        };
        if let Some(address) = literal {
            admit(reach, address).map_err(OutboundError::Refused)?;
        }
        Ok(reach)
    }
}

/// What the resolved addresses of one call may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reach {
    Any,
    LoopbackOnly,
    PublicOnly,
}

/// Why a call did not get an answer.
#[derive(Debug, thiserror::Error)]
pub enum OutboundError {
    /// The policy refuses the URL or an address its host resolves to.
    #[error("{0}")]
    Refused(String),
    /// The host could not be reached, or did not answer in time.
    #[error("{0}")]
    Unreachable(String),
    /// The answer was larger than the cap.
    #[error("{url} answered more than {max} bytes")]
    TooLarge {
        /// The URL called.
        url: String,
        /// The cap, in bytes.
        max: u64,
    },
}

/// An answer: its status (any, 2xx or not) and its body, at most the cap.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Vec<u8>,
}

/// A client bound to one policy.
#[derive(Clone)]
pub struct Outbound {
    policy: Policy,
    max_answer: u64,
    connect: Duration,
    total: Duration,
}

/// The longest URL called.
const MAX_URL: usize = 2000;

impl Outbound {
    /// A client with `policy`: 5 s to connect, 10 s in all, answers up to 1 MiB.
    pub fn new(policy: Policy) -> Self {
        Self { policy, max_answer: 1 << 20, connect: Duration::from_secs(5), total: Duration::from_secs(10) }
    }

    fn agent(&self, reach: Reach) -> ureq::Agent {
        ureq::AgentBuilder::new()
            .timeout_connect(self.connect)
            .timeout(self.total)
            .redirects(0)
            .user_agent("cohort")
            .resolver(move |netloc: &str| resolve(reach, netloc))
            .build()
    }

    /// `GET url` with `headers`.
    pub async fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Answer, OutboundError> {
        self.call("GET", url, headers, None).await
    }

    /// `POST url` of `body` with `headers` (the content type among them).
    pub async fn post(&self, url: &str, headers: &[(&str, &str)], body: &str) -> Result<Answer, OutboundError> {
        self.call("POST", url, headers, Some(body)).await
    }

    async fn call(
        &self,
        method: &'static str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Result<Answer, OutboundError> {
        let reach = self.policy.reach(url)?;
        let agent = self.agent(reach);
        let max = self.max_answer;
        let url = url.to_owned();
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let body = body.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let mut request = agent.request(method, &url);
            for (k, v) in &headers {
                request = request.set(k, v);
            }
            let sent = match &body {
                Some(b) => request.send_string(b),
                None => request.call(),
            };
            read(&url, sent, max)
        })
        .await
        .map_err(|_| OutboundError::Unreachable("the call was abandoned".to_owned()))?
    }
}

/// The host of an authority (`user@host:port`, `[::1]:8080`), without its port.
fn host_of(authority: &str) -> &str {
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| &host[..h.len() + 1]);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

fn shorten(url: &str) -> String {
    url.chars().take(200).collect()
}

/// Resolves `netloc` and admits it only if every address it resolves to is within `reach`.
fn resolve(reach: Reach, netloc: &str) -> io::Result<Vec<SocketAddr>> {
    let addresses: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
    for a in &addresses {
        admit(reach, a.ip()).map_err(|why| io::Error::new(io::ErrorKind::PermissionDenied, why))?;
    }
    Ok(addresses)
}

fn admit(reach: Reach, address: IpAddr) -> Result<(), String> {
    match reach {
        Reach::Any => Ok(()),
        Reach::LoopbackOnly if address.is_loopback() => Ok(()),
        Reach::LoopbackOnly => Err(format!("plain http may reach only this machine, not {address}")),
        Reach::PublicOnly if is_public(address) => Ok(()),
        Reach::PublicOnly => Err(format!("{address} is not a public address")),
    }
}

/// Whether `address` is one anyone on the internet could reach: not loopback, private,
/// link-local, shared (carrier NAT), multicast, documentation, benchmarking or reserved.
pub fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(a),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [o0, o1, o2, _] = a.octets();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_documentation()
        || o0 == 0
        || (o0 == 100 && (64..128).contains(&o1))
        || (o0 == 192 && o1 == 0 && o2 == 0)
        || (o0 == 198 && (18..20).contains(&o1))
        || o0 >= 240)
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let s = a.segments();
    !(a.is_unspecified()
        || a.is_loopback()
        || a.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x0064 && s[1] == 0xff9b)
        || (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == 0 && s[4] == 0 && s[5] == 0))
}

/// The answer of a call, at most `max` bytes of body.
fn read(url: &str, sent: Result<ureq::Response, ureq::Error>, max: u64) -> Result<Answer, OutboundError> {
    let response = match sent {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(ureq::Error::Transport(t)) => {
            let refused = std::error::Error::source(&t)
                .and_then(|e| e.downcast_ref::<io::Error>())
                .filter(|e| e.kind() == io::ErrorKind::PermissionDenied);
            return Err(match refused {
                Some(why) => OutboundError::Refused(format!("`{}`: {why}", shorten(url))),
                None => OutboundError::Unreachable(format!("{} is out of reach: {}", shorten(url), t.kind())),
            });
        }
    };
    let status = response.status();
    let mut body = Vec::new();
    response
        .into_reader()
        .take(max + 1)
        .read_to_end(&mut body)
        .map_err(|e| OutboundError::Unreachable(format!("reading {} failed: {e}", shorten(url))))?;
    if body.len() as u64 > max {
        return Err(OutboundError::TooLarge { url: shorten(url), max });
    }
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn only_addresses_anyone_could_reach_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "198.18.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "2001:db8::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(ip(private)), "{private} is not public");
        }
        for public in ["1.1.1.1", "93.184.216.34", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn each_policy_admits_what_it_names() {
        let idp = Policy::IdentityProvider;
        assert!(idp.admits("https://login.example.com/tenant").is_ok());
        assert!(idp.admits("http://127.0.0.1:8080/").is_ok());
        assert!(idp.admits("http://localhost:8080/").is_ok());
        assert!(idp.admits("http://[::1]:8080/x").is_ok());
        assert!(idp.admits("http://127.0.0.1.example.com/").is_err());
        assert!(idp.admits("https://a b/").is_err());
        assert!(idp.admits("http://login.example.com/").is_err());
        assert!(idp.admits("ftp://login.example.com/").is_err());
        assert!(idp.admits("https://user@login.example.com/").is_err());
        assert!(idp.admits("https:///no-host").is_err());
        let strict = Policy::Webhook { allow_private: false };
        assert!(strict.admits("https://hooks.example.com/in").is_ok());
        assert!(strict.admits("http://hooks.example.com/in").is_ok());
        for refused in ["http://127.0.0.1/", "https://10.0.0.8/", "http://169.254.169.254/latest", "http://[::1]:80/"] {
            assert!(matches!(strict.admits(refused), Err(OutboundError::Refused(_))), "{refused}");
        }
        let open = Policy::Webhook { allow_private: true };
        assert!(open.admits("http://127.0.0.1:9000/").is_ok());
    }

    #[test]
    fn a_name_is_judged_by_the_addresses_it_resolves_to() {
        // `localhost` resolves to loopback: refused where only public addresses may be reached,
        // and admitted where plain http may reach this machine.
        let refused = resolve(Reach::PublicOnly, "localhost:80").map(|_| ());
        assert_eq!(refused.map_err(|e| e.kind()), Err(io::ErrorKind::PermissionDenied));
        assert!(resolve(Reach::LoopbackOnly, "localhost:80").is_ok_and(|a| a.iter().all(|a| a.ip().is_loopback())));
        assert!(resolve(Reach::LoopbackOnly, "10.0.0.1:80").is_err());
    }

    /// A one-page HTTP server on 127.0.0.1 answering every request with `status` and `body`.
    fn serve(status: &'static str, body: &'static str) -> u16 {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| unreachable!("bind: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut stream = stream;
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nLocation: http://localhost:{port}/elsewhere\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        port
    }

    #[tokio::test]
    async fn a_call_to_a_name_that_resolves_to_this_machine_goes_only_where_the_policy_allows() {
        let port = serve("200 OK", "hello");
        let url = format!("http://localhost:{port}/hook");
        let strict = Outbound::new(Policy::Webhook { allow_private: false }).get(&url, &[]).await;
        match strict {
            Err(OutboundError::Refused(why)) => assert!(why.contains("not a public address"), "{why}"),
            other => unreachable!("the strict policy called {url}: {other:?}"),
        }
        for policy in [Policy::Webhook { allow_private: true }, Policy::IdentityProvider] {
            let a = Outbound::new(policy).get(&url, &[]).await;
            assert!(a.as_ref().is_ok_and(|a| a.status == 200 && a.body == b"hello"), "{policy:?}: {a:?}");
        }
    }

    #[tokio::test]
    async fn answers_are_capped_and_redirects_not_followed() {
        let open = Outbound::new(Policy::Webhook { allow_private: true });
        let moved = open.get(&format!("http://127.0.0.1:{}/", serve("302 Found", "")), &[]).await;
        assert_eq!(moved.map(|a| a.status).ok(), Some(302));
        let small = Outbound { max_answer: 4, ..open.clone() };
        let big = small.get(&format!("http://127.0.0.1:{}/", serve("200 OK", "more than four")), &[]).await;
        assert!(matches!(big, Err(OutboundError::TooLarge { max: 4, .. })), "{big:?}");
        let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port());
        let nobody = open.get(&format!("http://127.0.0.1:{}/", closed.unwrap_or(1)), &[]).await;
        assert!(matches!(nobody, Err(OutboundError::Unreachable(_))), "{nobody:?}");
    }
}
