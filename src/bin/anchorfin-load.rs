//! `anchorfin-load`: a load generator for a running Anchorfin server.
//!
//! It onboards a supplier, a buyer and B banks (with the operator's API
//! key), then runs timed phases, each with C concurrent clients over HTTP:
//!
//! 1. `register`: N receivables registered by the supplier;
//! 2. `confirm`: each confirmed by the buyer's ed25519 signature;
//! 3. `offer`: the supplier, the assets' holder, offers each asset to the
//!    one bank that will pledge it (signed `offer_pledge`, 201); reported
//!    as a phase of its own so that `pledge` times the pledges alone;
//! 4. `pledge`: each asset pledged by the bank it was offered to (201) and,
//!    for a share of them (`--conflict-percent`), raced by a second bank
//!    naming the same offer, which is not addressed to it (404);
//! 5. `lookup`: encumbrance look-ups by fingerprint from the banks.
//!
//! Each phase reports requests per second, p50/p99/p99.9 latency and the
//! answers by status; an answer other than the one expected for its
//! request fails the run. Afterwards `scripts/bench.sh` checks in the
//! database that no asset has two active liens.
//!
//! `--phase-hook CMD` runs `sh -c CMD` before each timed phase (with
//! `ANCHORFIN_PHASE=<name>`, `ANCHORFIN_PHASE_EVENT=start`) and after it
//! (`ANCHORFIN_PHASE_EVENT=end`, `ANCHORFIN_PHASE_REQUESTS=<requests sent>`),
//! outside the phase's timing; a hook that fails fails the run.
//! `scripts/bench-instructions.sh` uses it to count the server's
//! instructions per phase under callgrind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// Share of assets (percent) a second bank also tries to pledge, naming the
    /// offer made to the first (refused 404: the offer is not addressed to it).
    #[arg(long, default_value_t = 10)]
    conflict_percent: u8,
    /// A tag that keeps legal ids and invoice numbers of runs apart.
    #[arg(long)]
    run: Option<String>,
    /// A shell command run before and after each timed phase, outside its
    /// timing, with ANCHORFIN_PHASE, ANCHORFIN_PHASE_EVENT (start or end) and,
    /// at the end, ANCHORFIN_PHASE_REQUESTS in its environment.
    #[arg(long)]
    phase_hook: Option<String>,
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
    // Every party, the supplier too, is onboarded with an ed25519 key: the
    // supplier signs its offers, the buyer its confirmations, the banks
    // their pledges.
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
    let supplier = Arc::new(supplier);
    let buyer = Arc::new(buyer);
    let banks = Arc::new(banks);
    let mut phases = Vec::new();

    // 1. Registrations.
    let numbers: Vec<usize> = (0..args.assets).collect();
    let (api1, supplier1, buyer1, run1) = (api.clone(), supplier.clone(), buyer.clone(), run.clone());
    let (report, registered) = phase(
        "register",
        args.phase_hook.as_deref(),
        args.clients,
        numbers,
        |_, status| status == 201,
        move |number| {
            let (api, supplier, buyer, run) = (api1.clone(), supplier1.clone(), buyer1.clone(), run1.clone());
            async move { api.register(&supplier, &buyer, &run, number).await }
        },
    )
    .await?;
    phases.push(report);

    // 2. Confirmations.
    let (api2, buyer2) = (api.clone(), buyer.clone());
    let (report, assets) = phase(
        "confirm",
        args.phase_hook.as_deref(),
        args.clients,
        registered.clone(),
        |_, status| status == 200,
        move |receivable: Registered| {
            let (api, buyer) = (api2.clone(), buyer2.clone());
            async move { api.confirm(&buyer, &receivable).await }
        },
    )
    .await?;
    phases.push(report);

    // 3. Offers: the supplier offers each asset to the bank that will pledge
    // it, for as much as that bank pledges, open for a day.
    let expires_at = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let offers: Vec<Offering> = assets
        .iter()
        .enumerate()
        .map(|(index, asset)| Offering {
            asset: asset.clone(),
            bank: index % banks.len(),
            nonce: format!("load-{run}-{index}-o"),
            index,
        })
        .collect();
    let (api3, supplier3, banks3) = (api.clone(), supplier.clone(), banks.clone());
    let (report, offered) = phase(
        "offer",
        args.phase_hook.as_deref(),
        args.clients,
        offers,
        |_, status| status == 201,
        move |offering: Offering| {
            let (api, supplier, banks, expires_at) =
                (api3.clone(), supplier3.clone(), banks3.clone(), expires_at.clone());
            async move {
                api.offer(&supplier, &banks[offering.bank], &offering, &expires_at)
                    .await
            }
        },
    )
    .await?;
    phases.push(report);

    // 4. Pledges, each accepting its offer; a share of them raced on the
    // same asset by a second bank naming the same offer, which is not
    // addressed to it: 404, before anything about the asset is read.
    let mut jobs = Vec::with_capacity(offered.len() * 2);
    for offered in &offered {
        let index = offered.index;
        jobs.push(PledgeJob {
            asset: offered.asset.clone(),
            offer: offered.offer.clone(),
            bank: offered.bank,
            nonce: format!("load-{run}-{index}-a"),
            raced: false,
        });
        if (index % 100) < usize::from(args.conflict_percent) && banks.len() > 1 {
            jobs.push(PledgeJob {
                asset: offered.asset.clone(),
                offer: offered.offer.clone(),
                bank: (offered.bank + 1) % banks.len(),
                nonce: format!("load-{run}-{index}-b"),
                raced: true,
            });
        }
    }
    let (api4, banks4) = (api.clone(), banks.clone());
    let (report, _) = phase(
        "pledge",
        args.phase_hook.as_deref(),
        args.clients,
        jobs,
        |job: &PledgeJob, status| status == if job.raced { 404 } else { 201 },
        move |job: PledgeJob| {
            let (api, banks) = (api4.clone(), banks4.clone());
            async move { (api.pledge(&banks[job.bank], &job).await, None::<()>) }
        },
    )
    .await?;
    phases.push(report);

    // 5. Encumbrance look-ups of the registered fingerprints.
    let lookups: Vec<(String, usize)> = (0..registered.len() * 4)
        .map(|index| {
            (
                registered[index % registered.len()].fingerprint.clone(),
                index % banks.len(),
            )
        })
        .collect();
    let (api5, banks5) = (api.clone(), banks.clone());
    let (report, _) = phase(
        "lookup",
        args.phase_hook.as_deref(),
        args.clients,
        lookups,
        |_, status| status == 200,
        move |(fingerprint, bank): (String, usize)| {
            let (api, banks) = (api5.clone(), banks5.clone());
            async move { (api.lookup(&banks[bank], &fingerprint).await, None::<()>) }
        },
    )
    .await?;
    phases.push(report);

    let report = json!({ "clients": args.clients, "assets": args.assets, "phases": phases });
    println!("{}", serde_json::to_string_pretty(&report)?);
    let unexpected: u64 = phases.iter().filter_map(|phase| phase["unexpected"].as_u64()).sum();
    if unexpected > 0 {
        bail!("{unexpected} answers were not the expected ones");
    }
    Ok(())
}

/// Runs `work` over `items` with `clients` concurrent workers; returns the
/// phase's report and the outputs of the successful items, in item order.
/// `expected` tells whether an item's answer is the one it should get.
async fn phase<T, O, F, Fut>(
    name: &str,
    hook: Option<&str>,
    clients: usize,
    items: Vec<T>,
    expected: impl Fn(&T, u16) -> bool,
    work: F,
) -> anyhow::Result<(Value, Vec<O>)>
where
    T: Clone + Send + Sync + 'static,
    O: Send + 'static,
    F: Fn(T) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (u16, Option<O>)> + Send,
{
    eprintln!("{name}: {} requests from {clients} clients", items.len());
    run_hook(hook, name, "start", None).await?;
    let items = Arc::new(items);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(clients);
    for _ in 0..clients.max(1) {
        let (items, next, work) = (items.clone(), next.clone(), work.clone());
        workers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(index) else { break };
                let began = Instant::now();
                let (status, output) = work(item.clone()).await;
                seen.push((index, began.elapsed(), status, output));
            }
            seen
        }));
    }
    let mut results = Vec::with_capacity(items.len());
    for worker in workers {
        if let Ok(seen) = worker.await {
            results.extend(seen);
        }
    }
    let elapsed = started.elapsed();
    run_hook(hook, name, "end", Some(items.len())).await?;
    results.sort_by_key(|(index, ..)| *index);
    let mut latencies: Vec<Duration> = results.iter().map(|(_, latency, ..)| *latency).collect();
    latencies.sort();
    let percentile = |p: f64| -> f64 {
        let rank = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies
            .get(rank)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1000.0)
    };
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for (_, _, status, _) in &results {
        *statuses.entry(*status).or_default() += 1;
    }
    let unexpected = results
        .iter()
        .filter(|(index, _, status, _)| !expected(&items[*index], *status))
        .count();
    let report = json!({
        "phase": name,
        "requests": results.len(),
        "seconds": elapsed.as_secs_f64(),
        "per_second": results.len() as f64 / elapsed.as_secs_f64(),
        "latency_ms": { "p50": percentile(0.50), "p99": percentile(0.99), "p99_9": percentile(0.999) },
        "statuses": statuses,
        "unexpected": unexpected,
    });
    eprintln!("{name}: {report}");
    Ok((
        report,
        results.into_iter().filter_map(|(_, _, _, output)| output).collect(),
    ))
}

/// Runs the phase hook, if any, for `event` (start or end) of phase `name`
/// and waits for it; `requests` is what the phase sent (at its end).
async fn run_hook(hook: Option<&str>, name: &str, event: &str, requests: Option<usize>) -> anyhow::Result<()> {
    let Some(hook) = hook else { return Ok(()) };
    let mut command = std::process::Command::new("sh");
    command
        .arg("-c")
        .arg(hook)
        .env("ANCHORFIN_PHASE", name)
        .env("ANCHORFIN_PHASE_EVENT", event);
    if let Some(requests) = requests {
        command.env("ANCHORFIN_PHASE_REQUESTS", requests.to_string());
    }
    let status = tokio::task::spawn_blocking(move || command.status())
        .await
        .context("the phase hook's task")?
        .with_context(|| format!("running the phase hook for {name} {event}"))?;
    if !status.success() {
        bail!("the phase hook failed for {name} {event}: {status}");
    }
    Ok(())
}

/// A registered receivable, as the confirmation needs it.
#[derive(Clone)]
struct Registered {
    id: String,
    fingerprint: String,
    supplier_id: String,
    amount: String,
}

/// Invoice `number`'s amount: 1,000.00 CNY and up, a cent apart, so that no
/// two invoices of a run look alike (same parties, amount and issue date is
/// what the registry alerts as a likely re-registration).
fn amount_of(number: usize) -> String {
    format!("{}.{:02}", 1000 + number / 100, number % 100)
}

/// What each bank pledges: below every invoice's face value.
const PLEDGED: &str = "900.00";

/// What the supplier offers each bank: the most it may pledge, here exactly
/// what it pledges (at most the face value, at least [`PLEDGED`]).
const OFFERED: &str = PLEDGED;

/// An asset to offer to one bank (by its index), under its nonce.
#[derive(Clone)]
struct Offering {
    asset: String,
    bank: usize,
    nonce: String,
    /// The asset's place in the run, which decides whether it is raced.
    index: usize,
}

/// An open offer, as the pledges need it.
struct Offered {
    asset: String,
    offer: String,
    bank: usize,
    index: usize,
}

/// One pledge: the offer's own bank (201), or a second bank racing it
/// with an offer not addressed to it (404).
#[derive(Clone)]
struct PledgeJob {
    asset: String,
    offer: String,
    bank: usize,
    nonce: String,
    raced: bool,
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

    async fn register(&self, supplier: &Party, buyer: &Party, run: &str, number: usize) -> (u16, Option<Registered>) {
        let amount = amount_of(number);
        let body = json!({"buyer_id": buyer.id, "invoice_number": format!("LOAD-{run}-{number}"),
                          "issue_date": "2026-11-01", "due_date": "2030-12-31", "currency": "CNY", "amount": amount});
        let response = self
            .client
            .post(format!("{}/v1/receivables", self.base))
            .bearer_auth(&supplier.api_key)
            .json(&body)
            .send()
            .await;
        let Ok(response) = response else { return (0, None) };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let registered = match (
            text(&body, "id"),
            text(&body, "fingerprint"),
            text(&body, "supplier_id"),
        ) {
            (Ok(id), Ok(fingerprint), Ok(supplier_id)) => Some(Registered {
                id,
                fingerprint,
                supplier_id,
                amount,
            }),
            _ => None,
        };
        (status, registered)
    }

    async fn confirm(&self, buyer: &Party, receivable: &Registered) -> (u16, Option<String>) {
        let message = format!(
            "anchorfin/v1/confirm\nreceivable={}\nfingerprint={}\namount={}\ncurrency=CNY\ndue_date=2030-12-31\nsupplier={}\nbuyer={}",
            receivable.id, receivable.fingerprint, receivable.amount, receivable.supplier_id, buyer.id
        );
        let signature = hex::encode(buyer.signing.sign(message.as_bytes()).to_bytes());
        let response = self
            .client
            .post(format!("{}/v1/receivables/{}/confirmation", self.base, receivable.id))
            .bearer_auth(&buyer.api_key)
            .json(&json!({ "signature": signature }))
            .send()
            .await;
        let Ok(response) = response else { return (0, None) };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, text(&body, "asset_id").ok())
    }

    async fn lookup(&self, bank: &Party, fingerprint: &str) -> u16 {
        let response = self
            .client
            .get(format!("{}/v1/encumbrance/{fingerprint}", self.base))
            .bearer_auth(&bank.api_key)
            .send()
            .await;
        response.map_or(0, |response| response.status().as_u16())
    }

    /// The holder's signed offer of an asset to `bank` for a pledge of at
    /// most [`OFFERED`]; returns the status (0 when the request failed at
    /// the transport) and, when the answer names it, the open offer.
    async fn offer(
        &self,
        holder: &Party,
        bank: &Party,
        offering: &Offering,
        expires_at: &str,
    ) -> (u16, Option<Offered>) {
        let (asset, nonce) = (&offering.asset, &offering.nonce);
        let message = format!(
            "anchorfin/v1/offer_pledge\nsubject=asset:{asset}\nbank={}\namount={OFFERED}\ncurrency=CNY\nexpires_at={expires_at}\nholder={}\nnonce={nonce}",
            bank.id, holder.id
        );
        let signature = hex::encode(holder.signing.sign(message.as_bytes()).to_bytes());
        let body = json!({"asset_id": asset, "bank_id": bank.id, "kind": "pledge", "amount": OFFERED,
                          "currency": "CNY", "expires_at": expires_at, "signature": signature});
        let request = self
            .client
            .post(format!("{}/v1/offers", self.base))
            .bearer_auth(&holder.api_key)
            .header("Idempotency-Key", nonce)
            .json(&body);
        let Ok(response) = request.send().await else {
            return (0, None);
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let offered = (status == 201)
            .then(|| text(&body, "id").ok())
            .flatten()
            .map(|offer| Offered {
                asset: asset.clone(),
                offer,
                bank: offering.bank,
                index: offering.index,
            });
        (status, offered)
    }

    /// One signed pledge of [`PLEDGED`] accepting the job's offer; returns
    /// the status (0 when the request failed at the transport).
    async fn pledge(&self, bank: &Party, job: &PledgeJob) -> u16 {
        let (offer, asset, nonce) = (&job.offer, &job.asset, &job.nonce);
        let message = format!(
            "anchorfin/v1/pledge\noffer={offer}\nsubject=asset:{asset}\namount={PLEDGED}\ncurrency=CNY\nbank={}\nnonce={nonce}",
            bank.id
        );
        let signature = hex::encode(bank.signing.sign(message.as_bytes()).to_bytes());
        let request = self
            .client
            .post(format!("{}/v1/pledges", self.base))
            .bearer_auth(&bank.api_key)
            .header("Idempotency-Key", nonce)
            .json(&json!({"offer_id": offer, "asset_id": asset, "amount": PLEDGED, "signature": signature}));
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
