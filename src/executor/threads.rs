//! Worker threads: spawning (under the `threads` lock, at most
//! `max_workers`, E1), exit bookkeeping, and the joins of a waiting
//! `shutdown` (E5), which also waits for refused submits' drains (E3).

use super::{worker, Inner, BROKEN, SHUTDOWN};
use crate::error::{ExecutorError, SpawnError};
use crate::sync::{
    condvar_wait, condvar_wait_timeout, lock, thread, Arc, AtomicUsize, Condvar, Mutex, MutexGuard,
    Ordering,
};
use std::time::Instant;

/// The pool's threads.
#[derive(Default)]
pub(super) struct Workers {
    pub(super) threads: Mutex<Threads>,
    /// Notified when a worker exits, a join ends or a drain ends.
    pub(super) exited: Condvar,
    /// Mirror of `Threads::alive`, read without the lock by submit.
    pub(super) count: AtomicUsize,
}

/// Join handles and worker counts, under `Workers::threads`.
#[derive(Default)]
pub(super) struct Threads {
    /// Handles of running workers (moved to `finished` when they exit).
    pub(super) handles: Vec<thread::JoinHandle<()>>,
    /// Handles of workers that exited, to be joined by `shutdown(wait)`.
    pub(super) finished: Vec<thread::JoinHandle<()>>,
    /// Workers ever started (names are `<prefix>_<index>`).
    pub(super) spawned: usize,
    /// Workers started and not yet exited; never above `max_workers`.
    pub(super) alive: usize,
    /// Workers blocked inside `shutdown(wait = true)` (E5).
    pub(super) in_shutdown: usize,
    /// Handles a `shutdown(wait)` took from `finished` and is joining: the
    /// other waiting callers wait for those joins too (E5).
    pub(super) joining: usize,
    /// Threads of refused submits draining the queue (E3): a drain may hold
    /// another submit's task, so `shutdown(wait)` waits for every drain but
    /// one on its own thread (a closure's `Drop` may call it).
    pub(super) draining: Vec<thread::ThreadId>,
}

/// What `spawn_worker` did.
pub(super) enum Spawn {
    Started,
    NotNeeded,
    /// Shutdown or a broken pool came first.
    Closed,
    /// The OS refused to start a thread.
    Failed {
        error: SpawnError,
        /// No worker is alive to run queued work.
        no_worker_left: bool,
    },
}

impl Inner {
    /// Starts the pool's first worker before the first task is queued, so
    /// that a thread the OS refuses to start leaves nothing queued: the
    /// submit fails with `Spawn` and its closure never runs (E1). `true`
    /// when this call started a worker (the submit then starts no other).
    pub(super) fn start_first_worker(this: &Arc<Self>) -> Result<bool, ExecutorError> {
        // ORDERING: Relaxed: only a hint; `spawn_worker` decides under lock.
        if this.workers.count.load(Ordering::Relaxed) > 0 {
            return Ok(false);
        }
        match Inner::spawn_worker(this) {
            Spawn::Started => Ok(true),
            Spawn::NotNeeded => Ok(false),
            // ORDERING: Relaxed: `spawn_worker` saw the flag under the lock
            // that `begin_shutdown` / `break_pool` take after setting it.
            Spawn::Closed => Err(this.refusal(this.closing.flags.load(Ordering::Relaxed))),
            Spawn::Failed {
                error,
                no_worker_left,
            } => {
                if no_worker_left {
                    Err(ExecutorError::Spawn(error))
                } else {
                    Ok(false)
                }
            }
        }
    }

    /// Starts one worker if the pool is below `max_workers` (E1).
    pub(super) fn spawn_worker(this: &Arc<Self>) -> Spawn {
        let mut threads = lock(&this.workers.threads);
        // ORDERING: Relaxed: `begin_shutdown` / `break_pool` set the flag
        // before they take this lock; if we hold it first, the worker we
        // start is counted in `alive` before they look.
        if this.closing.flags.load(Ordering::Relaxed) & (SHUTDOWN | BROKEN) != 0 {
            return Spawn::Closed;
        }
        if threads.alive >= this.config.max_workers {
            return Spawn::NotNeeded;
        }
        let index = threads.spawned;
        let mut builder =
            thread::Builder::new().name(format!("{}_{}", this.config.name_prefix, index));
        if let Some(size) = this.config.stack_size {
            builder = builder.stack_size(size);
        }
        let inner = Arc::clone(this);
        match builder.spawn(move || worker::run(inner)) {
            Ok(handle) => {
                threads.handles.push(handle);
                threads.spawned += 1;
                threads.alive += 1;
                // ORDERING: Relaxed: a hint for `enqueue` (see there).
                this.workers.count.store(threads.alive, Ordering::Relaxed);
                Spawn::Started
            }
            Err(e) => Spawn::Failed {
                error: SpawnError::new(e),
                no_worker_left: threads.alive == 0,
            },
        }
    }

    /// Called by a worker as it leaves its loop (E5). The last worker of a
    /// closed pool also drops the tasks of refused submits (E3); its thread
    /// does so before it ends, so `shutdown(wait)`, which joins it, returns
    /// after.
    pub(super) fn worker_exited(&self) {
        let me = thread::current().id();
        let mut threads = lock(&self.workers.threads);
        threads.alive -= 1;
        // ORDERING: Relaxed: a hint for `enqueue` (see there).
        self.workers.count.store(threads.alive, Ordering::Relaxed);
        let last = threads.alive == 0;
        if let Some(pos) = threads.handles.iter().position(|h| h.thread().id() == me) {
            let handle = threads.handles.swap_remove(pos);
            threads.finished.push(handle);
        }
        drop(threads);
        // ORDERING: Relaxed: a worker exits its loop only after a SeqCst load
        // read the flags set (`sleep`, sleepers.rs); a worker lost to a panic reads
        // whatever it reads, and then is replaced instead.
        if last && self.closing.flags.load(Ordering::Relaxed) & (SHUTDOWN | BROKEN) != 0 {
            self.drop_refused();
        }
        self.workers.exited.notify_all();
    }

    /// A worker's body unwound (a panic escaped every catch, E6): start a
    /// replacement; if none can start and no worker is left, break the pool
    /// so that no queued task waits forever.
    pub(super) fn replace_lost_worker(this: &Arc<Self>) {
        if let Spawn::Failed {
            error,
            no_worker_left: true,
        } = Inner::spawn_worker(this)
        {
            this.break_pool(format!(
                "a worker was lost and none could be started: {error}"
            ));
        }
    }

    /// Waits until every worker but the caller (and other workers blocked
    /// here) has exited and been joined. Several callers may wait at once:
    /// each joins the handles it finds finished, and each returns only after
    /// every such join, its own or another caller's, is over (E5). `false` if
    /// `deadline` passed first.
    pub(super) fn wait_workers(&self, deadline: Option<Instant>) -> bool {
        let me = thread::current().id();
        let mut threads = lock(&self.workers.threads);
        let is_worker = threads.handles.iter().any(|h| h.thread().id() == me);
        if is_worker {
            threads.in_shutdown += 1;
            self.workers.exited.notify_all();
        }
        let done = loop {
            let finished = std::mem::take(&mut threads.finished);
            if !finished.is_empty() {
                let n = finished.len();
                threads.joining += n;
                drop(threads);
                finished.into_iter().for_each(join_worker);
                threads = lock(&self.workers.threads);
                threads.joining -= n;
                self.workers.exited.notify_all();
                continue;
            }
            let others_exited = if is_worker {
                threads.alive <= threads.in_shutdown
            } else {
                threads.alive == 0
            };
            let drains_over = threads.draining.iter().all(|&t| t == me);
            if others_exited && threads.joining == 0 && drains_over {
                break true;
            }
            match deadline {
                None => threads = condvar_wait(&self.workers.exited, threads),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break false;
                    }
                    threads = condvar_wait_timeout(&self.workers.exited, threads, d - now);
                }
            }
        };
        if is_worker {
            threads.in_shutdown -= 1;
        }
        done
    }
}

/// A refused submit's drain of the queue, registered in
/// `Threads::draining` from the moment the submit read `alive == 0` until
/// the drain is over, however it ends (E3).
pub(super) struct Draining<'a> {
    inner: &'a Inner,
}

impl<'a> Draining<'a> {
    /// Registers the calling thread; takes the guard under which the caller
    /// read `alive == 0`, so no waiting shutdown can return in between.
    pub(super) fn register(inner: &'a Inner, mut threads: MutexGuard<'_, Threads>) -> Self {
        threads.draining.push(thread::current().id());
        Draining { inner }
    }
}

impl Drop for Draining<'_> {
    fn drop(&mut self) {
        let me = thread::current().id();
        let mut threads = lock(&self.inner.workers.threads);
        if let Some(pos) = threads.draining.iter().position(|&t| t == me) {
            threads.draining.swap_remove(pos);
        }
        drop(threads);
        self.inner.workers.exited.notify_all();
    }
}

/// Joins a worker that left its loop. Its body catches every panic of user
/// code (E6), and a lost worker was already replaced (`Exit` in worker.rs):
/// a failed join is reported, never raised (this runs in `Drop`).
fn join_worker(handle: thread::JoinHandle<()>) {
    if handle.join().is_err() {
        eprintln!("concurrent_futures: a worker thread ended by a panic");
    }
}
