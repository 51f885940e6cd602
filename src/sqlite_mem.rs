//! SQLite's memory, set up once before the first connection opens. SQLite allocates with the C
//! library's `malloc` and, by default, keeps global allocation statistics behind one mutex. Every
//! cell sqlx reads is copied (`sqlite3_value_dup`), so a page of users with their children is
//! thousands of allocations on the pool's worker threads, all through that mutex and glibc's
//! arenas (together about 15% of a profile of the users page). Here SQLite allocates from
//! mimalloc, the process's allocator, and keeps no statistics (nothing here reads them).

use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

use libsqlite3_sys as ffi;

unsafe extern "C" fn x_malloc(n: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; treat one as zero rather than wrap.
    unsafe { libmimalloc_sys::mi_malloc(usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn x_free(p: *mut c_void) {
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn x_realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    unsafe { libmimalloc_sys::mi_realloc(p, usize::try_from(n).unwrap_or(0)) }
}

unsafe extern "C" fn x_size(p: *mut c_void) -> c_int {
    let n = unsafe { libmimalloc_sys::mi_usable_size(p) };
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn x_roundup(n: c_int) -> c_int {
    let good = unsafe { libmimalloc_sys::mi_good_size(usize::try_from(n).unwrap_or(0)) };
    c_int::try_from(good).unwrap_or(n)
}

unsafe extern "C" fn x_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn x_shutdown(_: *mut c_void) {}

/// What was set up: `true` when both settings took (they cannot once SQLite has started,
/// which then keeps its defaults).
pub fn configure() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(x_malloc),
            xFree: Some(x_free),
            xRealloc: Some(x_realloc),
            xSize: Some(x_size),
            xRoundup: Some(x_roundup),
            xInit: Some(x_init),
            xShutdown: Some(x_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: `sqlite3_config` is called before any connection is opened (the pool opens them
        // after this returns) and only once; SQLite copies the methods structure. The functions
        // are mimalloc's, which allocate 16-byte aligned blocks (SQLite needs 8) and accept the
        // pointers they returned, which is all SQLite passes back.
        let ok = unsafe {
            ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &methods as *const ffi::sqlite3_mem_methods)
                == ffi::SQLITE_OK
                && ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) == ffi::SQLITE_OK
        };
        if !ok {
            tracing::debug!("SQLite had started already; it keeps its own allocator");
        }
        ok
    })
}
