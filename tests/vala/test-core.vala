/* test-core.vala: the amorsize core from Vala
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Plans come from added durations on a custom Amor.System, so every expected
 * number follows from the cost model; nothing depends on this machine's speed.
 */

/* Exact binary fractions: mean 2^-13 s, target chunk duration 2^-10 s, so the
 * base chunk is exactly 8 items. */
const double MEAN = 1.0 / 8192.0;
const double TARGET = 1.0 / 1024.0;
const double CV_1_2_3 = 0.408248290463863;

static void check_close (string what, double actual, double expected, double tolerance) {
    if (!(Math.fabs (actual - expected) <= tolerance)) {
        printerr ("%s: expected %.17g ± %g, got %.17g\n", what, expected, tolerance, actual);
        assert_not_reached ();
    }
}

static Amor.System custom_system () {
    return new Amor.System.custom (8, 8, (uint64) 8 << 30, 2e-5, 1e-7);
}

static Amor.Optimizer make_optimizer () {
    var optimizer = new Amor.Optimizer ();
    optimizer.system = custom_system ();
    optimizer.target_chunk_duration = TARGET;
    return optimizer;
}

static Amor.Result plan_from (double[] durations, uint64 n_items) {
    var sampler = new Amor.Sampler ();
    foreach (var d in durations)
        sampler.add_duration (d);
    return make_optimizer ().plan (sampler, n_items);
}

static Amor.Result heterogeneous_plan () {
    /* 1,1,1,1,6 (scaled): mean 2, population stddev 2, CV exactly 1. */
    double s = MEAN / 2;
    return plan_from ({ s, s, s, s, 6 * s }, 100000);
}

static void test_sampler_statistics () {
    var sampler = new Amor.Sampler ();
    sampler.add_duration (1.0);
    sampler.add_duration (2.0);
    sampler.add_duration (3.0);
    assert (sampler.n_samples == 3);
    check_close ("mean", sampler.mean, 2.0, 1e-12);
    check_close ("variance", sampler.variance, 2.0 / 3.0, 1e-12);
    check_close ("cv", sampler.cv, CV_1_2_3, 1e-12);
    assert (sampler.min == 1.0);
    assert (sampler.max == 3.0);
    check_close ("total", sampler.total, 6.0, 1e-12);
    assert (!sampler.is_heterogeneous);
}

static void test_plan_1_2_3 () {
    var result = plan_from ({ 1.0, 2.0, 3.0 }, 100);
    assert (result.n_items == 100);
    assert (result.n_samples == 3);
    check_close ("mean", result.mean, 2.0, 1e-12);
    check_close ("cv", result.cv, CV_1_2_3, 1e-12);
    assert (!result.is_heterogeneous);
    assert (result.chunk_factor == 1.0);
    assert (result.chunk_size == 1);
    assert (result.n_workers == 8);
    assert (result.is_parallel ());
    assert (result.schedule != Amor.Schedule.SERIAL);
    check_close ("estimated serial time", result.estimated_serial_time, 200.0, 1e-9);
    assert (result.estimated_speedup > 1.2 && result.estimated_speedup <= 8.0);
}

static void test_plan_heterogeneous () {
    var result = heterogeneous_plan ();
    check_close ("mean", result.mean, MEAN, 1e-15);
    check_close ("cv", result.cv, 1.0, 1e-12);
    assert (result.is_heterogeneous);
    check_close ("chunk factor", result.chunk_factor, 0.5, 1e-12);
    assert (result.base_chunk_size == 8);
    assert (result.chunk_size == 4);
    assert (result.n_workers == 8);
}

static void test_plan_serial () {
    /* 10 items of 0.1 µs: 1 µs of work, less than one fork-join. */
    var result = plan_from ({ 1e-7, 1e-7, 1e-7, 1e-7, 1e-7 }, 10);
    assert (!result.is_parallel ());
    assert (result.n_workers == 1);
    assert (result.chunk_size == 10);
    assert (result.schedule == Amor.Schedule.SERIAL);
    assert (result.estimated_speedup < 1.2);
    assert ("1.2" in result.reason);
}

static void test_optimize_vala_callback () {
    uint64 n_items = 10000;
    var calls = new GenericArray<uint64?> ();
    unowned Thread<void*> self_thread = Thread.self<void*> ();
    bool other_thread = false;
    Amor.Result result;
    try {
        result = make_optimizer ().optimize (n_items, (index) => {
            calls.add (index);
            if (Thread.self<void*> () != self_thread)
                other_thread = true;
            return true;
        });
    } catch (Error e) {
        error ("optimize failed: %s", e.message);
    }
    assert (!other_thread);
    assert (result.n_items == n_items);
    assert (result.n_samples == calls.length);
    assert (calls.length >= 5);
    var seen = new GenericSet<uint64?> (int64_hash, int64_equal);
    foreach (var index in calls) {
        assert (index < n_items);
        assert (!seen.contains (index));
        seen.add (index);
    }
}

static void test_optimize_throws () {
    uint64 first = uint64.MAX;
    int calls = 0;
    try {
        make_optimizer ().optimize (1000, (index) => {
            calls++;
            first = index;
            throw new IOError.INVALID_DATA ("vala-boom-%s", index.to_string ());
        });
        assert_not_reached ();
    } catch (Error e) {
        /* The callback's own error arrives, prefixed with the item. */
        assert (e is IOError.INVALID_DATA);
        assert (calls == 1);
        assert (e.message == "Item %s: vala-boom-%s".printf (first.to_string (), first.to_string ()));
    }
}

static void test_optimize_false_is_work_failed () {
    try {
        make_optimizer ().optimize (1000, (index) => false);
        assert_not_reached ();
    } catch (Error e) {
        assert (e is Amor.Error.WORK_FAILED);
        assert (e.domain == Amor.Error.quark ());
    }
}

static void test_explain () {
    var text = heterogeneous_plan ().explain ();
    var lines = text.split ("\n");
    assert (lines.length > 3);
    bool cv_line = false, worker_line = false;
    foreach (var line in lines) {
        if ("CV" in line && "1.0" in line)
            cv_line = true;
        if ("worker" in line.down () && "8" in line)
            worker_line = true;
    }
    assert (cv_line);
    assert (worker_line);
}

static void assert_same_properties (Amor.Result a, Amor.Result b) {
    var klass = (ObjectClass) typeof (Amor.Result).class_ref ();
    var n_checked = 0;
    foreach (unowned ParamSpec pspec in klass.list_properties ()) {
        var va = Value (pspec.value_type);
        var vb = Value (pspec.value_type);
        a.get_property (pspec.name, ref va);
        b.get_property (pspec.name, ref vb);
        if (pspec.value_type == typeof (string[])) {
            unowned string[]? sa = (string[]?) va.get_boxed ();
            unowned string[]? sb = (string[]?) vb.get_boxed ();
            assert ((sa == null) == (sb == null));
            if (sa != null) {
                assert (strv_length (sa) == strv_length (sb));
                for (var i = 0; i < strv_length (sa); i++)
                    assert (sa[i] == sb[i]);
            }
        } else if (pspec.value_type == typeof (string)) {
            assert (va.get_string () == vb.get_string ());
        } else if (pspec.values_cmp (va, vb) != 0) {
            printerr ("property %s differs: %s vs %s\n", pspec.name,
                      va.strdup_contents (), vb.strdup_contents ());
            assert_not_reached ();
        }
        n_checked++;
    }
    assert (n_checked > 10);
}

static void test_json_round_trip () {
    Amor.Result[] plans = {
        heterogeneous_plan (),
        plan_from ({ 1.0, 2.0, 3.0 }, 100),
        plan_from ({ 1e-7, 1e-7, 1e-7 }, 10),
        plan_from ({ MEAN }, 0),
    };
    foreach (var plan in plans) {
        var json = plan.to_json ();
        try {
            var copy = new Amor.Result.from_json (json);
            assert_same_properties (plan, copy);
            assert (copy.to_json () == json);
        } catch (Error e) {
            error ("new_from_json failed: %s", e.message);
        }
    }
}

static void test_json_garbage () {
    var good = heterogeneous_plan ().to_json ();
    string[] garbage = { "this is not json", good.substring (0, good.length / 2), "[1, 2, 3]" };
    foreach (var text in garbage) {
        try {
            new Amor.Result.from_json (text);
            assert_not_reached ();
        } catch (Error e) {
            assert (e.domain == Amor.Error.quark ());
        }
    }
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/sampler/statistics", test_sampler_statistics);
    Test.add_func ("/vala/plan/durations-1-2-3", test_plan_1_2_3);
    Test.add_func ("/vala/plan/heterogeneous", test_plan_heterogeneous);
    Test.add_func ("/vala/plan/serial", test_plan_serial);
    Test.add_func ("/vala/optimize/callback", test_optimize_vala_callback);
    Test.add_func ("/vala/optimize/throws", test_optimize_throws);
    Test.add_func ("/vala/optimize/false-is-work-failed", test_optimize_false_is_work_failed);
    Test.add_func ("/vala/result/explain", test_explain);
    Test.add_func ("/vala/result/json-round-trip", test_json_round_trip);
    Test.add_func ("/vala/result/json-garbage", test_json_garbage);
    return Test.run ();
}
