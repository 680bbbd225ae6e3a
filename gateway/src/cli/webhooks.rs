//! `simgw webhooks listen`: a developer's local receiver (as `stripe listen` is). It
//! registers an endpoint for itself through the API, verifies every delivery's signature
//! and timestamp, prints one line per event and answers 204; Ctrl-C deletes the endpoint.

use super::CliError;
use super::api_client::TargetArgs;
use crate::webhooks::receiver::{self, Received, Reply};
use crate::webhooks::signing;
use clap::Subcommand;
use http::Method;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Subcommand)]
pub(super) enum WebhooksCommand {
    /// Receive the sandbox's webhooks locally: verify, print one line per event, answer 204.
    Listen(ListenArgs),
}

#[derive(clap::Args)]
pub(super) struct ListenArgs {
    /// Local port to listen on (127.0.0.1); 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Only these event types (comma-separated; default: all).
    #[arg(long, value_delimiter = ',')]
    events: Vec<String>,
    /// Where the gateway is (its key: an operator key).
    #[command(flatten)]
    target: TargetArgs,
}

pub(super) async fn run(command: WebhooksCommand) -> Result<(), CliError> {
    match command {
        WebhooksCommand::Listen(args) => listen(args).await,
    }
}

fn refused(what: &str, status: u16, v: &Value) -> CliError {
    CliError::Refused(format!(
        "{what}: HTTP {status}: {}",
        v["detail"].as_str().unwrap_or("no detail")
    ))
}

async fn listen(args: ListenArgs) -> Result<(), CliError> {
    let target = args.target.target()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| CliError::arg(format!("--port {}", args.port), e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let url = format!("http://{addr}/webhooks");
    let (status, v) = target
        .send_json(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&json!({"url": url, "event_types": args.events})),
        )
        .await?;
    if status != 201 {
        return Err(refused("registering the endpoint", status, &v));
    }
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    let key = v["secret"]
        .as_str()
        .and_then(signing::parse_secret)
        .ok_or_else(|| CliError::Refused("the gateway answered without a usable secret".into()))?;
    eprintln!("listening on {url} (endpoint {id}); Ctrl-C deletes the endpoint and stops");
    let handler: receiver::Handler = Arc::new(move |r: Received| check_and_print(&key, &r));
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(receiver::serve(listener, handler, stop_rx));
    let _ = tokio::signal::ctrl_c().await;
    let _ = stop.send(true);
    let _ = server.await;
    let (status, v) = target
        .send_json(Method::DELETE, &format!("/v1/webhook-endpoints/{id}"), None)
        .await?;
    if status != 204 {
        return Err(refused("deleting the endpoint", status, &v));
    }
    eprintln!("endpoint {id} deleted");
    Ok(())
}

/// Verifies a delivery (signature, timestamp within tolerance) and prints `id type
/// subject`; a delivery that does not verify is refused with 400 and reported on stderr.
fn check_and_print(key: &[u8], r: &Received) -> Reply {
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verified = signing::verify(
        key,
        r.header("webhook-id"),
        r.header("webhook-timestamp"),
        r.header("webhook-signature"),
        &r.body,
        now_s,
    );
    if let Err(e) = verified {
        eprintln!("refused a delivery ({}): {e}", r.header("webhook-id"));
        return (400, Vec::new());
    }
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    println!(
        "{} {} {}",
        v["id"].as_str().unwrap_or("?"),
        v["type"].as_str().unwrap_or("?"),
        v["subject"].as_str().unwrap_or("-")
    );
    (204, Vec::new())
}
