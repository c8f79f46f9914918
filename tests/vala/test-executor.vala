/* test-executor.vala: Amor.Executor from Vala, synchronously and with yield
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Vala callbacks run on the executor's worker threads. The tests check what
 * the executor promises (each index exactly once, results by index, the first
 * error stopping the run), never how fast it went.
 */

const double MEAN = 1.0 / 8192.0;
const double TARGET = 1.0 / 1024.0;

static Amor.Optimizer make_optimizer () {
    var optimizer = new Amor.Optimizer ();
    optimizer.system = new Amor.System.custom (8, 8, (uint64) 8 << 30, 2e-5, 1e-7);
    optimizer.target_chunk_duration = TARGET;
    return optimizer;
}

static Amor.Result parallel_plan (uint64 n_items) {
    var sampler = new Amor.Sampler ();
    for (var i = 0; i < 5; i++)
        sampler.add_duration (MEAN);
    var plan = make_optimizer ().plan (sampler, n_items);
    assert (plan.is_parallel ());
    return plan;
}

static uint64 square (uint64 i) {
    return i * i;
}

/* Items squared into results[i]; counts[i] counts the calls of each index. */
class MapOverList : Object {
    public uint64[] results;
    public int[] counts;
    public int64 fail_at = -1;

    public MapOverList (uint64 n_items) {
        results = new uint64[n_items];
        counts = new int[n_items];
    }

    public bool work (uint64 index) throws Error {
        AtomicInt.inc (ref counts[index]);
        if ((int64) index == fail_at)
            throw new IOError.INVALID_DATA ("cannot process item %s", index.to_string ());
        results[index] = square (index);
        return true;
    }

    public void assert_all_done () {
        for (var i = 0; i < counts.length; i++) {
            assert (AtomicInt.get (ref counts[i]) == 1);
            assert (results[i] == square (i));
        }
    }

    public int calls () {
        var total = 0;
        for (var i = 0; i < counts.length; i++) {
            var c = AtomicInt.get (ref counts[i]);
            assert (c <= 1);
            total += c;
        }
        return total;
    }
}

static void test_run () {
    uint64 n_items = 20000;
    var list = new MapOverList (n_items);
    var executor = new Amor.Executor (make_optimizer ());
    try {
        assert (executor.run (n_items, list.work, null));
    } catch (Error e) {
        error ("run failed: %s", e.message);
    }
    list.assert_all_done ();
    assert (executor.completed == n_items);
    assert (executor.n_items == n_items);
    assert (executor.result != null);
}

static void test_run_with_lambda () {
    uint64 n_items = 5000;
    var counts = new int[n_items];
    var executor = new Amor.Executor (make_optimizer ());
    try {
        executor.run_with_plan (parallel_plan (n_items), n_items, (index) => {
            AtomicInt.inc (ref counts[index]);
            return true;
        }, null);
    } catch (Error e) {
        error ("run_with_plan failed: %s", e.message);
    }
    foreach (var c in counts)
        assert (c == 1);
}

static void test_run_error_stops () {
    uint64 n_items = 100000;
    var list = new MapOverList (n_items);
    list.fail_at = 0;
    var executor = new Amor.Executor (make_optimizer ());
    try {
        executor.run_with_plan (parallel_plan (n_items), n_items, list.work, null);
        assert_not_reached ();
    } catch (Error e) {
        assert (e is IOError.INVALID_DATA);
        assert (e.message == "Item 0: cannot process item 0");
    }
    assert (list.counts[0] == 1);
    assert (list.calls () < n_items);
}

static async void run_async_case (Amor.Executor executor, MapOverList list, uint64 n_items,
                                  out bool ok, out Error? error) {
    ok = false;
    error = null;
    try {
        ok = yield executor.run_async (n_items, list.work, null);
    } catch (Error e) {
        error = e;
    }
}

static void run_in_loop (Amor.Executor executor, MapOverList list, uint64 n_items,
                         out bool ok, out Error? error) {
    var loop = new MainLoop (null, false);
    bool done = false;
    bool result_ok = false;
    Error? result_error = null;
    unowned Thread<void*> self_thread = Thread.self<void*> ();
    var notify_elsewhere = false;
    var handler = executor.notify["completed"].connect (() => {
        if (Thread.self<void*> () != self_thread)
            notify_elsewhere = true;
    });
    run_async_case.begin (executor, list, n_items, (obj, res) => {
        run_async_case.end (res, out result_ok, out result_error);
        done = true;
        loop.quit ();
    });
    var timeout = Timeout.add_seconds (120, () => {
        loop.quit ();
        return Source.REMOVE;
    });
    loop.run ();
    assert (done);
    Source.remove (timeout);
    executor.disconnect (handler);
    assert (!notify_elsewhere);
    ok = result_ok;
    error = (owned) result_error;
}

static void test_run_async () {
    uint64 n_items = 20000;
    var list = new MapOverList (n_items);
    var executor = new Amor.Executor (make_optimizer ());
    bool ok;
    Error? error;
    run_in_loop (executor, list, n_items, out ok, out error);
    assert (error == null);
    assert (ok);
    list.assert_all_done ();
    assert (executor.completed == n_items);
}

static void test_run_async_error () {
    uint64 n_items = 100000;
    var list = new MapOverList (n_items);
    list.fail_at = 4321;
    var executor = new Amor.Executor (make_optimizer ());
    bool ok;
    Error? error;
    run_in_loop (executor, list, n_items, out ok, out error);
    assert (!ok);
    assert (error != null);
    assert (error is IOError.INVALID_DATA);
    assert (error.message == "Item 4321: cannot process item 4321");
    assert (list.counts[4321] == 1);
    assert (list.calls () < n_items);
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/executor/run", test_run);
    Test.add_func ("/vala/executor/run-with-plan-lambda", test_run_with_lambda);
    Test.add_func ("/vala/executor/error-stops", test_run_error_stops);
    Test.add_func ("/vala/executor/run-async", test_run_async);
    Test.add_func ("/vala/executor/run-async-error", test_run_async_error);
    return Test.run ();
}
