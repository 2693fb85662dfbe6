//! A small WebDriver client (W3C protocol over HTTP) for driving Debian's `chromium` through
//! `chromedriver` in the browser tests, and axe-core run inside the pages it visits.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `chromedriver` with one headless Chromium session; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
}

fn need(path: &str, what: &str) -> String {
    assert!(
        std::path::Path::new(path).exists(),
        "the browser tests need {what} at {path}: run them through scripts/test.sh, which installs it"
    );
    path.to_owned()
}

fn call(method: &str, url: &str, body: Option<&Value>) -> Value {
    let req = ureq::request(method, url).timeout(Duration::from_secs(60));
    let res = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(&b.to_string()),
        None => req.call(),
    };
    let text = match res {
        Ok(r) => r.into_string().unwrap(),
        Err(ureq::Error::Status(code, r)) => panic!("WebDriver {method} {url}: {code}: {}", r.into_string().unwrap()),
        Err(e) => panic!("WebDriver {method} {url}: {e}"),
    };
    serde_json::from_str::<Value>(&text).unwrap()["value"].clone()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium `width` pixels wide.
    pub fn start(width: u32) -> Self {
        let chromium = need("/usr/bin/chromium", "Debian's chromium");
        let driver_bin = need("/usr/bin/chromedriver", "Debian's chromium-driver");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let until = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < until, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--disable-gpu", "--disable-dev-shm-usage", format!("--window-size={width},900")],
            }
        } } });
        let v = call("POST", &format!("{base}/session"), Some(&caps));
        let session = v["sessionId"].as_str().unwrap().to_owned();
        Self { driver, base, session }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    /// Opens `url` (WebDriver waits for it to load).
    pub fn goto(&self, url: &str) {
        call("POST", &self.url("/url"), Some(&json!({ "url": url })));
    }

    /// The address of the page shown.
    pub fn current(&self) -> String {
        call("GET", &self.url("/url"), None).as_str().unwrap().to_owned()
    }

    /// The element `css` selects (waiting up to 5 s for it).
    pub fn find(&self, css: &str) -> String {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let r = ureq::post(&self.url("/element"))
                .set("Content-Type", "application/json")
                .send_string(&json!({ "using": "css selector", "value": css }).to_string());
            if let Ok(r) = r {
                let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
                return v["value"][ELEMENT].as_str().unwrap().to_owned();
            }
            assert!(Instant::now() < until, "no element matches `{css}` on {}:\n{}", self.current(), self.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the element `css` selects, on the page as it is (a checkbox, a control).
    pub fn tick(&self, css: &str) {
        let e = self.find(css);
        call("POST", &self.url(&format!("/element/{e}/click")), Some(&json!({})));
    }

    /// Clicks the link or button `css` selects and waits for the page it leads to.
    pub fn click(&self, css: &str) {
        self.run("window.__cohortLeaving = true");
        self.tick(css);
        self.wait_for_new_page();
    }

    /// Waits until the page shown is not the one marked before leaving it, and has loaded.
    pub fn wait_for_new_page(&self) {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let r = ureq::post(&self.url("/execute/sync")).set("Content-Type", "application/json").send_string(
                &json!({ "script": "return window.__cohortLeaving !== true && document.readyState === 'complete'", "args": [] })
                    .to_string(),
            );
            if let Ok(r) = r {
                let v: Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
                if v["value"] == json!(true) {
                    return;
                }
            }
            assert!(Instant::now() < until, "the next page did not load");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `text` into the element `css` selects, after clearing it.
    pub fn fill(&self, css: &str, text: &str) {
        let e = self.find(css);
        call("POST", &self.url(&format!("/element/{e}/clear")), Some(&json!({})));
        call("POST", &self.url(&format!("/element/{e}/value")), Some(&json!({ "text": text })));
    }

    /// Sends keys to a file input (a path on this machine).
    pub fn attach(&self, css: &str, path: &std::path::Path) {
        let e = self.find(css);
        call("POST", &self.url(&format!("/element/{e}/value")), Some(&json!({ "text": path.to_str().unwrap() })));
    }

    /// The visible text of the page.
    pub fn text(&self) -> String {
        self.run("return document.body ? document.body.innerText : ''").as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` in the page and answers what it returns.
    pub fn run(&self, script: &str) -> Value {
        call("POST", &self.url("/execute/sync"), Some(&json!({ "script": script, "args": [] })))
    }

    /// Makes the window `width` by `height` pixels.
    pub fn resize(&self, width: u32, height: u32) {
        call("POST", &self.url("/window/rect"), Some(&json!({ "width": width, "height": height })));
    }

    /// Makes the pages see a system that asks for dark colours, or not (Chromium's DevTools
    /// emulation, reached through chromedriver).
    pub fn dark(&self, on: bool) {
        let value = if on { "dark" } else { "light" };
        let params = json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] });
        call(
            "POST",
            &self.url("/goog/cdp/execute"),
            Some(&json!({ "cmd": "Emulation.setEmulatedMedia", "params": params })),
        );
    }

    /// Waits up to 5 s for `script` to return true.
    pub fn wait_until(&self, script: &str) {
        let until = Instant::now() + Duration::from_secs(5);
        while self.run(script) != json!(true) {
            assert!(Instant::now() < until, "`{script}` did not hold on {}:\n{}", self.current(), self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves a screenshot of the page as a PNG.
    pub fn screenshot(&self, path: &std::path::Path) {
        let b64 = call("GET", &self.url("/screenshot"), None);
        std::fs::write(path, decode_base64(b64.as_str().unwrap())).unwrap();
    }

    /// Runs axe-core (`axe` is its source) on the page; the serious and critical violations.
    pub fn axe(&self, axe: &str) -> Vec<String> {
        let script = format!(
            "{axe}\n;const done = arguments[arguments.length - 1];\
             axe.run(document, {{ resultTypes: ['violations'] }}).then(r => done(r.violations\
               .filter(v => v.impact === 'serious' || v.impact === 'critical')\
               .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))))\
             .catch(e => done(['axe failed: ' + e]));"
        );
        let v = call("POST", &self.url("/execute/async"), Some(&json!({ "script": script, "args": [] })));
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = ureq::delete(&format!("{}/session/{}", self.base, self.session)).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, c)| n | (u32::from(val(*c)) << (18 - 6 * i)));
        let take = chunk.len().saturating_sub(1);
        for i in 0..take {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}
