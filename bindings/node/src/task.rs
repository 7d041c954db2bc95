//! Engine calls that may wait, run on the libuv thread pool.
//!
//! An [`EngineTask`] carries one boxed engine call. `compute` runs it on a pool thread (with
//! panics caught and reported as `internal` errors, so nothing aborts the process); `resolve`
//! builds the JS result, or the JS error, back on the JS thread. Argument errors found before
//! the call are carried in the task as well, so an async method reports failure by rejecting
//! its promise, not by throwing (the one exception: a JS exception thrown by the caller's own
//! getter while the arguments were read propagates at once).

use std::panic::{AssertUnwindSafe, catch_unwind};

use napi::{Env, JsValue, Task};

use net::Error;

use crate::error::{Fail, Res};
use crate::js::{Js, Raw, RawEnv};
use crate::output::ToJs;

/// What an engine call returns: a JS-convertible value or an engine error.
pub type Outcome = Result<Box<dyn ToJs>, Error>;

type Job = Box<dyn FnOnce() -> Outcome + Send>;

/// One engine call for the thread pool; see the module docs.
pub struct EngineTask {
    job: Option<Job>,
}

impl EngineTask {
    /// A task running `f`.
    pub fn run<T: ToJs + 'static>(f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Self {
        EngineTask {
            job: Some(Box::new(move || f().map(|v| Box::new(v) as Box<dyn ToJs>))),
        }
    }

    /// A task that fails with `error` without calling the engine.
    pub fn fail(error: Error) -> Self {
        EngineTask {
            job: Some(Box::new(move || Err(error))),
        }
    }

    /// Queues [`EngineTask::run`] if the arguments were valid, [`EngineTask::fail`] otherwise,
    /// and returns the task's promise.
    pub fn spawn<A, T: ToJs + 'static>(
        env: RawEnv,
        args: Result<A, Fail>,
        f: impl FnOnce(A) -> Result<T, Error> + Send + 'static,
    ) -> Res<Raw>
    where
        A: Send + 'static,
    {
        let task = match args {
            Ok(a) => EngineTask::run(move || f(a)),
            Err(Fail::Engine(e)) => EngineTask::fail(e),
            // A JS exception is pending (a getter threw): let it propagate synchronously.
            Err(Fail::Pending) => return Err(Fail::Pending),
        };
        let promise = Env::from_raw(env)
            .spawn(task)
            .map_err(|e| Fail::Engine(Error::Internal(format!("cannot queue the call: {e}"))))?;
        Ok(promise.promise_object().raw())
    }
}

impl Task for EngineTask {
    type Output = Outcome;
    type JsValue = Js;

    fn compute(&mut self) -> napi::Result<Outcome> {
        let job = self.job.take();
        Ok(match job {
            Some(job) => catch_unwind(AssertUnwindSafe(job)).unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(Error::Internal(format!("engine call panicked: {what}")))
            }),
            None => Err(Error::Internal("task ran twice".into())),
        })
    }

    fn resolve(&mut self, env: Env, output: Outcome) -> napi::Result<Js> {
        let raw = env.raw();
        match output {
            Ok(value) => value.to_js(raw).map(Js).map_err(|f| f.into_napi(raw)),
            Err(e) => Err(Fail::Engine(e).into_napi(raw)),
        }
    }
}
