//! `anchorfin-load`: a load generator for a running Anchorfin server.
//!
//! Scenario `pledges`: onboards a supplier, a buyer and B banks (with the
//! operator's API key), registers and confirms N receivables (not timed),
//! then C concurrent clients send signed pledges over HTTP: every asset is
//! pledged by one bank and, for a share of them (`--conflict-percent`), a
//! second bank races for the same asset. It reports decisions per second,
//! p50/p99/p99.9 latency and answers by status. Afterwards `scripts/bench.sh`
//! checks in the database that no asset has two active liens.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Parser;
use ed25519_dalek::{Signer, SigningKey};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(name = "anchorfin-load", about = "Load generator for a running Anchorfin server")]
struct Args {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An operator organisation's API key (from `anchorfin org add --role operator`).
    #[arg(long, env = "ANCHORFIN_OPERATOR_KEY", hide_env_values = true)]
    operator_key: String,
    /// Concurrent clients.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Assets to pledge.
    #[arg(long, default_value_t = 5_000)]
    assets: usize,
    /// Banks taking pledges.
    #[arg(long, default_value_t = 8)]
    banks: usize,
    /// Share of assets (percent) a second bank also tries to pledge (refused 409).
    #[arg(long, default_value_t = 10)]
    conflict_percent: u8,
    /// A tag that keeps legal ids and invoice numbers of runs apart.
    #[arg(long)]
    run: Option<String>,
}

struct Party {
    id: String,
    api_key: String,
    signing: SigningKey,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let run = args.run.clone().unwrap_or_else(|| format!("{:08x}", OsRng.next_u32()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.clients)
        .build()?;
    let api = Api {
        client,
        base: args.server.trim_end_matches('/').to_owned(),
    };

    eprintln!(
        "setting up: supplier, buyer, {} banks, {} confirmed assets",
        args.banks, args.assets
    );
    let supplier = api
        .onboard(&args.operator_key, "supplier", &format!("LOAD-SUP-{run}"))
        .await?;
    let buyer = api
        .onboard(&args.operator_key, "core_enterprise", &format!("LOAD-BUY-{run}"))
        .await?;
    let mut banks = Vec::with_capacity(args.banks);
    for index in 0..args.banks.max(1) {
        banks.push(
            api.onboard(&args.operator_key, "bank", &format!("LOAD-BANK-{run}-{index}"))
                .await?,
        );
    }
    let assets = api
        .confirmed_assets(&supplier, &buyer, &run, args.assets, args.clients)
        .await?;

    // Each job: (asset, bank index); conflicting assets get a second bank.
    let mut jobs = Vec::with_capacity(assets.len() * 2);
    for (index, asset) in assets.iter().enumerate() {
        jobs.push((asset.clone(), index % banks.len()));
        if (index % 100) < usize::from(args.conflict_percent) && banks.len() > 1 {
            jobs.push((asset.clone(), (index + 1) % banks.len()));
        }
    }
    let jobs = Arc::new(jobs);
    let banks = Arc::new(banks);
    let next = Arc::new(AtomicUsize::new(0));
    eprintln!("pledging: {} requests from {} clients", jobs.len(), args.clients);
    let started = Instant::now();
    let mut workers = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let (api, jobs, banks, next, run) = (api.clone(), jobs.clone(), banks.clone(), next.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((asset, bank)) = jobs.get(index) else { break };
                let bank = &banks[*bank];
                let nonce = format!("load-{run}-{index}");
                let began = Instant::now();
                let status = api.pledge(bank, asset, &nonce).await;
                seen.push((began.elapsed(), status));
            }
            seen
        }));
    }
    let mut latencies = Vec::with_capacity(jobs.len());
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for worker in workers {
        for (latency, status) in worker.await? {
            latencies.push(latency);
            *statuses.entry(status).or_default() += 1;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| -> f64 {
        let rank = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies
            .get(rank)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    };
    let report = json!({
        "scenario": "pledges",
        "clients": args.clients,
        "requests": latencies.len(),
        "seconds": elapsed.as_secs_f64(),
        "decisions_per_second": latencies.len() as f64 / elapsed.as_secs_f64(),
        "latency_ms": { "p50": percentile(0.50), "p99": percentile(0.99), "p99_9": percentile(0.999) },
        "statuses": statuses,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let unexpected: usize = statuses
        .iter()
        .filter(|(status, _)| !matches!(**status, 201 | 409))
        .map(|(_, count)| count)
        .sum();
    if unexpected > 0 {
        bail!("{unexpected} answers were neither 201 nor 409");
    }
    Ok(())
}

#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(&self, path: &str, key: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("POST {path}: {status}: {body}");
        }
        Ok(body)
    }

    async fn onboard(&self, operator_key: &str, role: &str, legal_id: &str) -> anyhow::Result<Party> {
        let mut seed = [0u8; 32];
        OsRng.fill_bytes(&mut seed);
        let signing = SigningKey::from_bytes(&seed);
        let body = json!({"name": legal_id, "role": role, "legal_id": legal_id,
                          "public_keys": [hex::encode(signing.verifying_key().to_bytes())]});
        let created = self.post("/v1/orgs", operator_key, &body).await?;
        Ok(Party {
            id: text(&created, "id")?,
            api_key: text(&created, "api_key")?,
            signing,
        })
    }

    /// Registers and confirms `count` receivables, `parallel` at a time.
    async fn confirmed_assets(
        &self,
        supplier: &Party,
        buyer: &Party,
        run: &str,
        count: usize,
        parallel: usize,
    ) -> anyhow::Result<Vec<String>> {
        let mut assets = Vec::with_capacity(count);
        let numbers: Vec<usize> = (0..count).collect();
        for chunk in numbers.chunks(parallel.max(1)) {
            let mut tasks = Vec::with_capacity(chunk.len());
            for number in chunk {
                let api = self.clone();
                let (supplier_key, buyer_key, buyer_id) =
                    (supplier.api_key.clone(), buyer.api_key.clone(), buyer.id.clone());
                let signing = buyer.signing.clone();
                let invoice = format!("LOAD-{run}-{number}");
                tasks.push(tokio::spawn(async move {
                    let body = json!({"buyer_id": buyer_id, "invoice_number": invoice, "issue_date": "2026-11-01",
                                      "due_date": "2030-12-31", "currency": "CNY", "amount": "1000.00"});
                    let receivable = api.post("/v1/receivables", &supplier_key, &body).await?;
                    let message = [
                        "anchorfin/v1/confirm".to_owned(),
                        format!("receivable={}", text(&receivable, "id")?),
                        format!("fingerprint={}", text(&receivable, "fingerprint")?),
                        "amount=1000.00".to_owned(),
                        "currency=CNY".to_owned(),
                        "due_date=2030-12-31".to_owned(),
                        format!("supplier={}", text(&receivable, "supplier_id")?),
                        format!("buyer={buyer_id}"),
                    ]
                    .join("\n");
                    let signature = hex::encode(signing.sign(message.as_bytes()).to_bytes());
                    let path = format!("/v1/receivables/{}/confirmation", text(&receivable, "id")?);
                    let confirmed = api.post(&path, &buyer_key, &json!({ "signature": signature })).await?;
                    text(&confirmed, "asset_id")
                }));
            }
            for task in tasks {
                assets.push(task.await??);
            }
        }
        Ok(assets)
    }

    /// One signed pledge of the whole face value; returns the status (0 when
    /// the request failed at the transport).
    async fn pledge(&self, bank: &Party, asset: &str, nonce: &str) -> u16 {
        let message = format!(
            "anchorfin/v1/pledge\nasset={asset}\namount=1000.00\ncurrency=CNY\nbank={}\nnonce={nonce}",
            bank.id
        );
        let signature = hex::encode(bank.signing.sign(message.as_bytes()).to_bytes());
        let request = self
            .client
            .post(format!("{}/v1/pledges", self.base))
            .bearer_auth(&bank.api_key)
            .header("Idempotency-Key", nonce)
            .json(&json!({"asset_id": asset, "amount": "1000.00", "signature": signature}));
        match request.send().await {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        }
    }
}

fn text(body: &Value, field: &str) -> anyhow::Result<String> {
    body[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the answer has no {field}: {body}"))
}
