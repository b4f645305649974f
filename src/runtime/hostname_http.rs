//! The built-in web server of `*nginx*`, `*hostname*` and `*echo*` images: answers
//! every HTTP request with the pod's hostname, like Kubernetes' serve_hostname.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

pub fn serve(port: u16) -> std::io::Result<()> {
    let listener = TcpListener::bind(("0.0.0.0", port))?;
    let hostname = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown".into());
    eprintln!("serving hostname {hostname} on :{port}");
    for stream in listener.incoming().flatten() {
        let hostname = hostname.clone();
        std::thread::spawn(move || answer(stream, &hostname));
    }
    Ok(())
}

fn answer(stream: TcpStream, hostname: &str) {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Read the headers to their end so that the client sees a clean close.
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let body = format!("{hostname}\n");
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = (&stream).write_all(response.as_bytes());
}
