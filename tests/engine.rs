//! The engine through the safe Rust API, against a tiny HTTP server on
//! loopback: callbacks that panic do not stop it, and requests keep working.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

/// Answers every request on every connection with `200 ok`, keep-alive.
fn start_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut line = String::new();
                    // Read one request head; these tests send no bodies.
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                    if writer.write_all(reply).is_err() {
                        return;
                    }
                }
            });
        }
    });
    port
}

fn fetch(url: &str) -> (i32, Vec<u8>) {
    let (tx, rx) = mpsc::channel();
    nethttp::request(
        url,
        None,
        Box::new(move |response| {
            tx.send((response.status(), response.body().to_vec()))
                .unwrap();
            false
        }),
    )
    .unwrap();
    rx.recv_timeout(Duration::from_secs(20))
        .expect("the callback came")
}

#[test]
fn a_panicking_callback_does_not_stop_the_engine() {
    let url = format!("http://127.0.0.1:{}/", start_server());
    let (tx, rx) = mpsc::channel();
    let id = nethttp::request(
        &url,
        None,
        Box::new(move |_| {
            tx.send(()).unwrap();
            panic!("a bug in a callback");
        }),
    )
    .unwrap();
    rx.recv_timeout(Duration::from_secs(20)).unwrap();
    // The engine goes on, and the panicking request was not kept.
    assert_eq!(fetch(&url), (200, b"ok".to_vec()));
    nethttp::destroy(id);
    for _ in 0..100 {
        assert_eq!(fetch(&url).0, 200);
    }
}

#[test]
fn ffi_functions_report_bad_arguments_as_errors() {
    use nethttp::ffi::{nethttp_last_error_code, nethttp_urlencode};
    // A NULL pointer with a length is an error, reported without unwinding.
    let out = unsafe { nethttp_urlencode(std::ptr::null(), 3, std::ptr::null_mut()) };
    assert!(out.is_null());
    assert_eq!(
        nethttp_last_error_code(),
        nethttp::nethttp_result::InvalidArgument
    );
}
