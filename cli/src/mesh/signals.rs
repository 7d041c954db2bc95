//! SIGINT / SIGTERM as a flag: [`install`] once, then poll [`stop_requested`].
//!
//! Promises: after `install`, the first SIGINT or SIGTERM sets the flag instead of killing the
//! process, so a command can shut down cleanly; the handler only stores to an atomic (which is
//! async-signal-safe). Not promised: interrupting a blocking read (commands poll the flag
//! between bounded waits); anything on non-unix systems (the flag then never sets).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_signal(_signal: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// Routes SIGINT and SIGTERM to the stop flag.
pub fn install() -> std::io::Result<()> {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `sigaction` is called with a zero-initialised struct (a valid value) whose
        // handler is an `extern "C" fn(c_int)` that only stores to a static atomic, which is
        // async-signal-safe; the old-action pointer may be null.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether SIGINT or SIGTERM arrived since [`install`].
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}
