//! The job queue on PostgreSQL: one table, claimed with `FOR UPDATE SKIP LOCKED` so many
//! workers take different jobs without waiting on each other, held by a lease a working
//! worker keeps renewing, and woken by `LISTEN`/`NOTIFY` instead of polling.
//!
//! A claim carries a random token. Every later statement about the job (renew, commit, fail)
//! names the token and changes nothing if the job has been claimed again since: a worker that
//! stalled past its lease, or whose connection dropped, cannot overwrite the newer result.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, GenericClient, NoTls};

use super::{JobError, JobSpec};

/// The channel workers listen on for new jobs.
const CHANNEL: &str = "headshot_jobs";

/// A connection to the queue.
pub struct Queue {
    client: Client,
    wake: tokio::sync::Mutex<mpsc::UnboundedReceiver<()>>,
}

/// A job a worker holds: its id, what it makes, and the claim's token.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: String,
    pub spec: JobSpec,
    pub token: String,
    /// How many times the job has been claimed, this claim included.
    pub attempt: i32,
}

/// One job's state, as `headshot jobs` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct JobRow {
    pub id: String,
    pub name: String,
    pub state: String,
    pub worker: Option<String>,
    pub attempts: i32,
    /// Photos finished so far by the claim that holds it (a web session's render reports it).
    pub progress: i32,
    /// Where its outputs are, once done.
    pub result: Option<String>,
    pub error: Option<String>,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").finish_non_exhaustive()
    }
}

impl Queue {
    /// Connects to `url` (`postgres://user@host:port/db`), creates the table if it is missing
    /// and listens for new jobs.
    pub async fn connect(url: &str) -> Result<Queue, JobError> {
        let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        // The connection runs on its own task; notifications arrive on it and wake the worker.
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(Ok(message)) = messages.next().await {
                if let AsyncMessage::Notification(_) = message {
                    let _ = tx.send(());
                }
            }
        });
        create_schema(&client).await?;
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        Ok(Queue { client, wake: tokio::sync::Mutex::new(rx) })
    }

    /// Adds a job unless the same work is queued or done already. Returns its id.
    pub async fn enqueue(&self, spec: &JobSpec) -> Result<String, JobError> {
        enqueue_on(&self.client, spec).await
    }

    /// Takes the oldest job that is queued (and not waiting out a retry's delay), or whose
    /// worker's lease ran out, for `worker`, for `lease`. Jobs claimed `max_attempts` times
    /// already are marked failed instead (a photo that kills every worker that touches it must
    /// not kill them all; a store that stays down must not be waited on for ever).
    pub async fn claim(&self, worker: &str, lease: Duration, max_attempts: i32) -> Result<Option<Claim>, JobError> {
        self.client
            .execute(
                "UPDATE headshot_jobs SET state = 'failed', lease_until = NULL, finished_at = now(), \
                 error = CASE WHEN state = 'queued' THEN 'gave up after ' || attempts || ' tries: ' || coalesce(error, '') \
                              ELSE 'its worker stopped ' || attempts || ' times' END \
                 WHERE attempts >= $1 AND (state = 'queued' OR (state = 'running' AND lease_until < now()))",
                &[&max_attempts],
            )
            .await?;
        // The same unguessable 128-bit id a web session gets.
        let token =
            crate::web::store::new_id().map_err(|source| JobError::Io { path: "random token".into(), source })?;
        let row = self
            .client
            .query_opt(
                "UPDATE headshot_jobs SET state = 'running', token = $1, worker = $2, attempts = attempts + 1, progress = 0, \
                 lease_until = now() + make_interval(secs => $3) \
                 WHERE id = (SELECT id FROM headshot_jobs \
                             WHERE (state = 'queued' AND (lease_until IS NULL OR lease_until < now())) \
                                OR (state = 'running' AND lease_until < now()) \
                             ORDER BY created_at, id FOR UPDATE SKIP LOCKED LIMIT 1) \
                 RETURNING id, spec, attempts",
                &[&token, &worker, &lease.as_secs_f64()],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let id: String = row.get(0);
        let spec: String = row.get(1);
        let spec: JobSpec =
            serde_json::from_str(&spec).map_err(|e| JobError::Job { id: id.clone(), reason: e.to_string() })?;
        Ok(Some(Claim { id, spec, token, attempt: row.get(2) }))
    }

    /// Extends a claim's lease; false if the claim is no longer the job's current one.
    pub async fn renew(&self, claim: &Claim, lease: Duration) -> Result<bool, JobError> {
        self.fenced(claim, "lease_until = now() + make_interval(secs => $3)", &lease.as_secs_f64()).await
    }

    /// Marks the job done with its outputs under `result`; false (nothing changed) if the
    /// claim is no longer the job's current one.
    pub async fn commit(&self, claim: &Claim, result: &str) -> Result<bool, JobError> {
        self.fenced(claim, "state = 'done', result = $3, lease_until = NULL, finished_at = now()", &result).await
    }

    /// Records how many photos the claim has finished; false if it is no longer the job's.
    pub async fn progress(&self, claim: &Claim, done: i32) -> Result<bool, JobError> {
        self.fenced(claim, "progress = $3", &done).await
    }

    /// Marks the job failed with `error` (a photo that cannot be read: retrying will not help).
    pub async fn fail(&self, claim: &Claim, error: &str) -> Result<bool, JobError> {
        self.fenced(claim, "state = 'failed', error = $3, lease_until = NULL, finished_at = now()", &error).await
    }

    /// Puts the job back in the queue after a passing failure (the store could not be reached),
    /// with `error` kept as its last one. It is not taken up again for 2^attempts seconds (at
    /// most a minute), so a store that is down for a moment does not use up every attempt at
    /// once; after the last attempt it is failed (`claim`). False if the claim is no longer
    /// the job's current one.
    pub async fn release(&self, claim: &Claim, error: &str) -> Result<bool, JobError> {
        let set = "state = 'queued', error = $3, token = NULL, worker = NULL, \
                   lease_until = now() + make_interval(secs => least(60, power(2, attempts)))";
        self.fenced(claim, set, &error).await
    }

    /// Applies `set` (whose one parameter, `$3`, is `value`) to the claim's job if the claim is
    /// still the job's current one: the fence every change by a worker goes through. Whether
    /// it applied.
    async fn fenced(
        &self,
        claim: &Claim,
        set: &str,
        value: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> Result<bool, JobError> {
        let sql = format!("UPDATE headshot_jobs SET {set} WHERE id = $1 AND token = $2 AND state = 'running'");
        let n = self.client.execute(&sql, &[&claim.id, &claim.token, value]).await?;
        Ok(n == 1)
    }

    /// Jobs not finished (queued, or running).
    pub async fn unfinished(&self) -> Result<i64, JobError> {
        let row = self
            .client
            .query_one("SELECT count(*) FROM headshot_jobs WHERE state IN ('queued', 'running')", &[])
            .await?;
        Ok(row.get(0))
    }

    /// Every job, oldest first.
    pub async fn jobs(&self) -> Result<Vec<JobRow>, JobError> {
        let rows = self
            .client
            .query(
                "SELECT id, name, state, worker, attempts, progress, result, error FROM headshot_jobs \
                 ORDER BY created_at, id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| JobRow {
                id: r.get(0),
                name: r.get(1),
                state: r.get(2),
                worker: r.get(3),
                attempts: r.get(4),
                progress: r.get(5),
                result: r.get(6),
                error: r.get(7),
            })
            .collect())
    }

    /// The result prefixes the queue refers to: each done job's committed one, and the one each
    /// running job's current claim is writing. Every other prefix in the store is an orphan (a
    /// worker that died, or lost its claim and could not clean up).
    pub async fn live_prefixes(&self) -> Result<std::collections::BTreeSet<String>, JobError> {
        let rows = self
            .client
            .query("SELECT id, state, token, result FROM headshot_jobs WHERE state IN ('done', 'running')", &[])
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                let (id, state): (String, String) = (r.get(0), r.get(1));
                match state.as_str() {
                    "done" => r.get::<_, Option<String>>(3),
                    _ => r.get::<_, Option<String>>(2).map(|token| super::result_prefix(&id, &token)),
                }
            })
            .collect())
    }

    /// Waits until a job may be waiting: a notification, or `timeout` (a lease running out
    /// sends none, so workers also look now and then).
    pub async fn wait(&self, timeout: Duration) {
        let mut wake = self.wake.lock().await;
        let _ = tokio::time::timeout(timeout, wake.recv()).await;
        // Several notifications may have piled up; one look serves them all.
        while wake.try_recv().is_ok() {}
    }
}

/// Adds a job through `client` (a connection, or a transaction whose other changes it must
/// stand or fall with) unless the same work is queued or done already; its id. Workers are
/// woken when the addition is committed.
pub async fn enqueue_on(client: &impl GenericClient, spec: &JobSpec) -> Result<String, JobError> {
    let id = spec.id();
    let body = serde_json::to_string(spec).map_err(|e| JobError::Job { id: id.clone(), reason: e.to_string() })?;
    client
        .execute(
            "INSERT INTO headshot_jobs (id, name, spec) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            &[&id, &spec.label(), &body],
        )
        .await?;
    client.batch_execute(&format!("NOTIFY {CHANNEL}")).await?;
    Ok(id)
}

/// Creates the queue's table where it is missing.
pub async fn create_schema(client: &Client) -> Result<(), JobError> {
    create_tables(client, SCHEMA).await
}

/// Runs `ddl` (`CREATE ... IF NOT EXISTS`). Workers and front-ends starting together would race
/// to create the same tables: one at a time, under an advisory lock.
pub async fn create_tables(client: &Client, ddl: &str) -> Result<(), JobError> {
    client.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {ddl} COMMIT;")).await?;
    Ok(())
}

/// The advisory lock key schema creation holds ("hsjb").
const SCHEMA_LOCK: i64 = 0x6873_6a62;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS headshot_jobs (
    id text PRIMARY KEY,
    name text NOT NULL,
    spec text NOT NULL,
    state text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    token text,
    worker text,
    attempts integer NOT NULL DEFAULT 0,
    lease_until timestamptz,
    result text,
    error text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz
);
ALTER TABLE headshot_jobs ADD COLUMN IF NOT EXISTS progress integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS headshot_jobs_open ON headshot_jobs (created_at, id) WHERE state IN ('queued', 'running');
";
