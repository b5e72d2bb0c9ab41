/*
 * timed.c: TTLCache and TLRUCache, the timed caches (twin: fastcache/_py/timed.py): their
 * timer (a C clock for time.monotonic and time.time, clock.h), each entry's deadline and
 * its place in the timer wheel (wheel.h), expiry, and the methods only they have: set()
 * with a per-item ttl (TTLCache), expire(), remaining_ttl().
 *
 * Expiry is exact: an entry is live while timer() < its deadline, checked at every access;
 * the wheel only decides when expired entries are reclaimed (and reported with "expired"),
 * in (deadline, scheduling order), as the twin's heap does.
 *
 * Times are real numbers, used as they are, or datetimes (as cachetools: a TTLCache with a
 * timedelta ttl and timer=datetime.now, a TLRUCache whose timer and ttu return datetimes;
 * core.h's TM_ modes). A datetime is held as the double of its microseconds from the first
 * time the cache read (time_origin): the wheel, the deadlines and the comparisons stay those
 * of numbers, and the numeric path pays one test of the mode. A TTLCache's deadline is the
 * timer's own `now + ttl`, so that it overflows where cachetools' does (OverflowError past
 * datetime.max). remaining_ttl() returns a timedelta. Differences from the twin:
 *   1. The twin holds a datetime's microseconds as a Python int, exact at any distance; here
 *      a double is exact within 2**53 us (285 years) of the origin. Beyond, times are rounded
 *      to the nearest double (at most 32 us at the ends of datetime's range): a deadline
 *      beyond and a time within the window still compare exactly.
 */
#include "core.h"
#include <datetime.h>

/* The datetime C API, imported at the first need (only the datetime path uses it). */
static int
datetime_api(void)
{
    if (PyDateTimeAPI == NULL)
        PyDateTime_IMPORT;
    return PyDateTimeAPI != NULL ? 0 : -1;
}

/* A timedelta's length in microseconds, as a double (exact up to 2**53). */
static double
delta_us(PyObject *d)
{
    long long days = PyDateTime_DELTA_GET_DAYS(d);
    long long rest = PyDateTime_DELTA_GET_SECONDS(d) * 1000000LL +
                     PyDateTime_DELTA_GET_MICROSECONDS(d);
    if (days > -100000000 && days < 100000000)  /* within int64: one rounding */
        return (double)(days * 86400000000LL + rest);
    return (double)days * 86400e6 + (double)rest;
}

/* A length in microseconds (an integral double) as a timedelta. */
static PyObject *
delta_from_us(double us)
{
    if (!(fabs(us) < 8e18)) {
        PyErr_SetString(PyExc_OverflowError, "time difference out of range");
        return NULL;
    }
    long long v = (long long)us, per_day = 86400000000LL;
    long long days = v / per_day, rest = v % per_day;
    if (rest < 0) {
        rest += per_day;
        days--;
    }
    if (days > 999999999 || days < -999999999) {
        PyErr_SetString(PyExc_OverflowError, "time difference out of range");
        return NULL;
    }
    return PyDelta_FromDSU((int)days, (int)(rest / 1000000), (int)(rest % 1000000));
}

/* A time returned by `what` (the timer, ttu; c may be NULL) as a double: a real number
 * (not a bool, not NaN). */
static int
time_value(CacheObject *c, PyObject *r, double *out, const char *what)
{
    if (PyBool_Check(r) || (!PyFloat_Check(r) && !PyLong_Check(r))) {
        int date = c != NULL && datetime_api() == 0 && PyDate_Check(r);
        PyErr_Format(PyExc_TypeError, "%s must return a real number, not %.200s%s", what,
                     Py_TYPE(r)->tp_name,
                     !date ? "" : c->policy == P_TTL
                     ? " (the cache's ttl is a number: a datetime timer needs a timedelta ttl)"
                     : " (the cache's times are numbers: its timer returned one first)");
        return -1;
    }
    double t = PyFloat_AsDouble(r);
    if (t == -1.0 && PyErr_Occurred())
        return -1;
    if (isnan(t)) {
        PyErr_Format(PyExc_ValueError, "%s returned NaN", what);
        return -1;
    }
    *out = t;
    return 0;
}

/* time_of() of a cache whose times are datetimes, or not decided yet. */
static int
time_of_object(CacheObject *c, PyObject *t, double *out, const char *what)
{
    if (c->time_mode == TM_UNDECIDED && !PyBool_Check(t) &&
        (PyFloat_Check(t) || PyLong_Check(t))) {
        c->time_mode = TM_NUMBER;  /* the first time decides */
        return time_value(c, t, out, what);
    }
    if (datetime_api() < 0)
        return -1;
    if (!PyDate_Check(t)) {
        PyErr_Format(PyExc_TypeError, "%s must return a %s, not %.200s", what,
                     c->time_mode == TM_UNDECIDED ? "real number or a datetime"
                     : c->policy == P_TTL ? "datetime (the cache's ttl is a timedelta)"
                     : "datetime (the cache's times are datetimes: its timer returned one first)",
                     Py_TYPE(t)->tp_name);
        return -1;
    }
    if (c->time_origin == NULL) {  /* the first time: the origin of the others */
        c->time_mode = TM_DATETIME;
        c->time_origin = Py_NewRef(t);
        *out = 0;
        return 0;
    }
    PyObject *origin = Py_NewRef(c->time_origin);  /* a subclass's __sub__ may run __init__ */
    PyObject *d = PyNumber_Subtract(t, origin);
    Py_DECREF(origin);
    if (d == NULL)
        return -1;  /* as naive and aware datetimes mixed: datetime's own TypeError */
    if (!PyDelta_Check(d)) {
        PyErr_Format(PyExc_TypeError, "%s returned a %.200s whose difference with the cache's "
                     "first time is a %.200s, not a timedelta", what, Py_TYPE(t)->tp_name,
                     Py_TYPE(d)->tp_name);
        Py_DECREF(d);
        return -1;
    }
    *out = delta_us(d);
    Py_DECREF(d);
    return 0;
}

/* A time `t` from `what` (the timer, ttu, expire's argument) in the cache's units; a float
 * inline. */
static inline int
time_of(CacheObject *c, PyObject *t, double *out, const char *what)
{
    if (c->time_mode == TM_NUMBER) {
        if (PyFloat_CheckExact(t) && !isnan(PyFloat_AS_DOUBLE(t))) {
            *out = PyFloat_AS_DOUBLE(t);
            return 0;
        }
        return time_value(c, t, out, what);
    }
    return time_of_object(c, t, out, what);
}

/* The time now (*out), and with obj the timer's own value (a new reference; for a C clock,
 * the float it would return). Inlined: fc_read_time's obj is NULL. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int
read_time(CacheObject *c, double *out, PyObject **obj)
{
    PyObject *t;
    if (c->tobj != NULL && c->tobj->nesting > 0) {  /* inside `with cache.timer:` */
        t = Py_NewRef(c->tobj->time);
    }
    else if (c->timer_kind != TK_PYTHON) {
        *out = c->timer_kind == TK_MONOTONIC ? fc_clock_monotonic() : fc_clock_realtime();
        if (obj != NULL && (*obj = PyFloat_FromDouble(*out)) == NULL)
            return -1;
        return 0;
    }
    else if ((t = PyObject_CallNoArgs(c->timer)) == NULL) {
        return -1;
    }
    if (time_of(c, t, out, "timer") < 0) {
        Py_DECREF(t);
        return -1;
    }
    if (obj != NULL)
        *obj = t;
    else
        Py_DECREF(t);
    return 0;
}

int
fc_read_time(CacheObject *c, double *out)
{
    return read_time(c, out, NULL);
}

/* timer() as a double: a real number (not a bool, not NaN). 0, or -1 with an exception.
 * The decorators' ttl_cache. */
int
fc_call_timer(PyObject *timer, double *out)
{
    PyObject *r = PyObject_CallNoArgs(timer);
    if (r == NULL)
        return -1;
    int ok = time_value(NULL, r, out, "timer");
    Py_DECREF(r);
    return ok;
}

/* ---------------------------------------------------------------------------------- */
/* cache.timer: cachetools' _Timer */

static int
no_keywords(PyObject *kwds)
{
    if (kwds != NULL && PyDict_GET_SIZE(kwds) > 0) {
        PyErr_SetString(PyExc_TypeError, "_Timer takes no keyword arguments");
        return 0;
    }
    return 1;
}

static PyObject *
timer_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *timer;
    if (!no_keywords(kwds) || !PyArg_UnpackTuple(args, "_Timer", 1, 1, &timer))
        return NULL;
    fc_TimerObject *t = (fc_TimerObject *)type->tp_alloc(type, 0);
    if (t != NULL)
        t->timer = Py_NewRef(timer);
    return (PyObject *)t;
}

static PyObject *
timer_call(fc_TimerObject *t, PyObject *args, PyObject *kwds)
{
    if (!no_keywords(kwds) || !PyArg_UnpackTuple(args, "_Timer", 0, 0))
        return NULL;
    if (t->nesting > 0)
        return Py_NewRef(t->time);
    return PyObject_CallNoArgs(t->timer);
}

static PyObject *
timer_enter(fc_TimerObject *t, PyObject *unused)
{
    if (t->nesting == 0) {
        PyObject *now = PyObject_CallNoArgs(t->timer);
        if (now == NULL)
            return NULL;
        if (t->nesting == 0)  /* the timer may have entered this very _Timer */
            Py_XSETREF(t->time, now);
        else
            Py_DECREF(now);
    }
    t->nesting++;
    return Py_NewRef(t->time);
}

static PyObject *
timer_exit(fc_TimerObject *t, PyObject *const *args, Py_ssize_t nargs)
{
    if (t->nesting > 0)
        t->nesting--;
    Py_RETURN_NONE;
}

static PyObject *
timer_reduce(fc_TimerObject *t, PyObject *unused)
{
    return Py_BuildValue("O(O)", (PyObject *)Py_TYPE(t), t->timer);
}

/* attributes not its own are the wrapped timer's, as cachetools' __getattr__ */
static PyObject *
timer_getattro(fc_TimerObject *t, PyObject *name)
{
    PyObject *r = PyObject_GenericGetAttr((PyObject *)t, name);
    if (r == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        r = PyObject_GetAttr(t->timer, name);
    }
    return r;
}

static int
timer_traverse(fc_TimerObject *t, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(t));
    Py_VISIT(t->timer);
    Py_VISIT(t->time);
    return 0;
}

static int
timer_clear(fc_TimerObject *t)
{
    Py_CLEAR(t->timer);
    Py_CLEAR(t->time);
    return 0;
}

static void
timer_dealloc(fc_TimerObject *t)
{
    PyObject_GC_UnTrack(t);
    timer_clear(t);
    fc_free_object((PyObject *)t);
}

static PyMethodDef timer_methods[] = {
    {"__enter__", (PyCFunction)timer_enter, METH_NOARGS,
     "Freeze the time (read once) until the matching __exit__; return it."},
    {"__exit__", (PyCFunction)(void (*)(void))timer_exit, METH_FASTCALL, NULL},
    {"__reduce__", (PyCFunction)timer_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot timer_slots[] = {
    {Py_tp_doc, "_Timer(timer, /)\n--\n\n"
                "A timed cache's timer, as cachetools': calls timer(); inside `with t:` "
                "(nested) returns the time read on entering."},
    {Py_tp_new, timer_new},
    {Py_tp_call, timer_call},
    {Py_tp_getattro, timer_getattro},
    {Py_tp_traverse, timer_traverse},
    {Py_tp_clear, timer_clear},
    {Py_tp_dealloc, timer_dealloc},
    {Py_tp_methods, timer_methods},
    {0, NULL},
};

PyType_Spec fc_TimerSpec = {
    .name = "fastcache._core._Timer",
    .basicsize = sizeof(fc_TimerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = timer_slots,
};

/* A real number (not bool) > 0, inf allowed. */
int
fc_parse_ttl(PyObject *obj, double *out, const char *what)
{
    if (PyBool_Check(obj) || (!PyFloat_Check(obj) && !PyLong_Check(obj))) {
        PyErr_Format(PyExc_TypeError, "%s must be a real number, not %.200s", what,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_OverflowError))
            return -1;
        PyErr_Clear();  /* an int beyond the double range */
        v = Py_SIZE(obj) < 0 ? -INFINITY : INFINITY;
    }
    if (!(v > 0)) {
        PyErr_Format(PyExc_ValueError, "%s must be positive", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* A timedelta ttl > 0, in microseconds. */
static int
parse_delta_ttl(PyObject *obj, double *out, const char *what)
{
    if (datetime_api() < 0)
        return -1;
    if (!PyDelta_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a timedelta (the cache's ttl is one), "
                     "not %.200s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = delta_us(obj);
    if (!(v > 0)) {
        PyErr_Format(PyExc_ValueError, "%s must be positive", what);
        return -1;
    }
    *out = v;
    return 0;
}

/* A TTLCache's ttl: a real number > 0 (times are numbers) or a timedelta > 0 (times are
 * datetimes; *out in microseconds). */
int
fc_parse_cache_ttl(PyObject *obj, double *out, int *mode)
{
    if (!PyBool_Check(obj) && (PyFloat_Check(obj) || PyLong_Check(obj))) {
        *mode = TM_NUMBER;
        return fc_parse_ttl(obj, out, "ttl");
    }
    if (datetime_api() < 0)
        return -1;
    if (!PyDelta_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "ttl must be a real number or a timedelta, not %.200s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    *mode = TM_DATETIME;
    return parse_delta_ttl(obj, out, "ttl");
}

/* A time origin fit for `mode` (a pickle's): None, or a date of a datetime cache. */
int
fc_check_time_origin(int mode, PyObject *origin)
{
    if (origin == Py_None)
        return 1;
    return mode == TM_DATETIME && datetime_api() == 0 && PyDate_Check(origin);
}

/* The timer, after the time mode is set: a C clock for time.monotonic and time.time when
 * times are numbers (which decides a TLRUCache's). */
int
fc_set_timer(CacheObject *c, PyObject *timer)
{
    if (fc_set_callable(&c->timer, timer, "timer", 0) < 0)
        return -1;
    Py_CLEAR(c->tobj);  /* a new timer, a new _Timer (as cachetools' __init__) */
    int clock = timer == c->st->time_monotonic ? TK_MONOTONIC
              : timer == c->st->time_time ? TK_REALTIME : TK_PYTHON;
    if (clock != TK_PYTHON && c->time_mode == TM_UNDECIDED)
        c->time_mode = TM_NUMBER;
    c->timer_kind = FC_NATIVE_CLOCKS && c->time_mode == TM_NUMBER ? clock : TK_PYTHON;
    return 0;
}

/* The arrays a timed cache keeps parallel to the entries (cache.c's growth). */
int
fc_timed_resize(CacheObject *c, Py_ssize_t cap)
{
    fc_tnode *tn = PyMem_Realloc(c->tnodes, (size_t)cap * sizeof(fc_tnode));
    if (tn == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->tnodes = tn;
    /* the heap never grows during an update: it holds at most every entry */
    fc_idx *heap = PyMem_Realloc(c->wheel->heap, (size_t)cap * sizeof(fc_idx));
    if (heap == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->wheel->heap = heap;
    return 0;
}

/* The time now and the deadline of (key, value) being written: TTLCache's ttl (or the
 * per-item `ttl_arg`), TLRUCache's ttu(key, value, now). Runs Python code (timer, ttu).
 * core.h's fc_timed_deadline settles the commonest case inline before calling this. */
int
fc_timed_deadline_call(CacheObject *c, PyObject *key, PyObject *value, PyObject *ttl_arg,
                       double *now_out, double *deadline_out)
{
    double now, deadline;
    int has_ttl = ttl_arg != NULL && ttl_arg != Py_None;
    if (c->policy == P_TTL && c->time_mode == TM_NUMBER) {
        if (fc_read_time(c, &now) < 0)
            return -1;
        double ttl = c->ttl;
        if (has_ttl && fc_parse_ttl(ttl_arg, &ttl, "ttl") < 0)
            return -1;
        deadline = now + ttl;
    }
    else {
        /* ttu(key, value, now), or a datetime's now + ttl: Python's arithmetic on the
         * timer's own value, as cachetools (OverflowError past datetime.max) */
        PyObject *now_obj, *r;
        double ttl_us;
        if (c->policy == P_TTL && has_ttl && parse_delta_ttl(ttl_arg, &ttl_us, "ttl") < 0)
            return -1;
        if (read_time(c, &now, &now_obj) < 0)
            return -1;
        uint64_t generation = c->generation;
        if ((c->policy == P_TTL ? (has_ttl ? ttl_arg : c->ttl_obj) : c->ttu) == NULL) {
            Py_DECREF(now_obj);  /* cleared by the garbage collector */
            PyErr_SetString(PyExc_RuntimeError, "the cache is not initialised");
            return -1;
        }
        if (c->policy == P_TTL) {
            PyObject *ttl = Py_NewRef(has_ttl ? ttl_arg : c->ttl_obj);
            r = PyNumber_Add(now_obj, ttl);
            Py_DECREF(ttl);
        }
        else {
            PyObject *ttu = Py_NewRef(c->ttu);  /* ttu may run __init__ */
            PyObject *args[3] = {key, value, now_obj};
            r = PyObject_Vectorcall(ttu, args, 3, NULL);
            Py_DECREF(ttu);
        }
        if (r == NULL) {
            Py_DECREF(now_obj);
            return -1;
        }
        /* __init__ meanwhile (from ttu, or a datetime's __add__): its answer stands in the new
         * configuration (cache.c's write path), measured as the time read is, from the origin
         * set afresh: that time is taken again first */
        int ok = (c->generation == generation || time_of(c, now_obj, &now, "timer") == 0) &&
                 time_of(c, r, &deadline, c->policy == P_TTL ? "timer() + ttl" : "ttu") == 0;
        Py_DECREF(now_obj);
        Py_DECREF(r);
        if (!ok)
            return -1;
    }
    *now_out = now;
    *deadline_out = deadline;
    return 0;
}

typedef struct {
    CacheObject *c;
    fc_pending *p;
} expire_ctx;

static void
expire_one(void *ctx, fc_idx ix)
{
    expire_ctx *x = ctx;
    x->c->tnodes[ix].bucket = FC_UNSCHEDULED;
    fc_entry_remove(x->c, ix, x->p, x->c->st->str_expired);
    if (x->c->stats)
        x->c->expirations++;
}

/* fc_expire_until's work once something is due (core.h). */
void
fc_expire_due(CacheObject *c, double now, fc_pending *p)
{
    Py_ssize_t first = p->n;
    expire_ctx x = {c, p};
    fc_wheel_advance(c->wheel, c->tnodes, now, expire_one, &x);
    fc_pending_sort(p, first);
}

/* expire(now) and report; 0 or -1. */
int
fc_expire_now(CacheObject *c)
{
    if (!IS_TIMED(c) || c->t.len == 0)
        return 0;
    double now;
    if (fc_read_time(c, &now) < 0)
        return -1;
    fc_pending p;
    fc_pending_init(&p);
    fc_expire_until(c, now, &p);
    FC_ASSERT_CONSISTENT(c);
    return fc_pending_finish(&p, c->on_evict);
}

static int
timed_init(CacheObject *c, PyObject *args, PyObject *kwds, int ttl_kind)
{
    static const char *const ttl_kw[] = {"maxsize", "ttl", "timer", "getsizeof", "on_evict",
                                         "stats", NULL};
    static const char *const ttu_kw[] = {"maxsize", "ttu", "timer", "getsizeof", "on_evict",
                                         "stats", NULL};
    PyObject *a[6] = {NULL, NULL, c->st->time_monotonic, Py_None, Py_None, Py_False};
    if (fc_parse_args(ttl_kind ? "TTLCache.__init__" : "TLRUCache.__init__", args, kwds,
                      ttl_kind ? ttl_kw : ttu_kw, 4, 2, a) < 0)
        return -1;
    PyObject *maxsize = a[0], *arg = a[1], *timer = a[2], *getsizeof = a[3], *on_evict = a[4];
    int stats = PyObject_IsTrue(a[5]);
    if (stats < 0)
        return -1;
    double ttl = INFINITY;
    int mode = TM_UNDECIDED;
    if (ttl_kind && fc_parse_cache_ttl(arg, &ttl, &mode) < 0)
        return -1;
    if (!ttl_kind && !PyCallable_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "ttu must be callable, not %.200s", Py_TYPE(arg)->tp_name);
        return -1;
    }
    if (!PyCallable_Check(timer)) {
        PyErr_Format(PyExc_TypeError, "timer must be callable, not %.200s",
                     Py_TYPE(timer)->tp_name);
        return -1;
    }
    if (fc_configure(c, maxsize, getsizeof, on_evict, stats,
                     ttl_kind && isfinite(ttl) ? ttl / 16.0 : 0) < 0)
        return -1;
    /* empty now: the new timer, ttl and ttu apply from the first entry on */
    c->ttl = ttl;
    c->time_mode = mode;
    PyObject *origin = c->time_origin;
    c->time_origin = NULL;
    if (ttl_kind)
        Py_XSETREF(c->ttl_obj, Py_NewRef(arg));
    else if (fc_set_callable(&c->ttu, arg, "ttu", 0) < 0)
        mode = -1;
    if (mode < 0 || fc_set_timer(c, timer) < 0)
        mode = -1;
    Py_XDECREF(origin);
    return mode < 0 ? -1 : 0;
}

int
fc_ttl_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    return timed_init(c, args, kwds, 1);
}

int
fc_tlru_init(CacheObject *c, PyObject *args, PyObject *kwds)
{
    return timed_init(c, args, kwds, 0);
}

static PyObject *
m_set(CacheObject *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *names[] = {"key", "value", "ttl"};
    PyObject *vals[3] = {NULL, NULL, NULL};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "set() takes at most 3 arguments");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        vals[i] = args[i];
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, i);
        int found = 0;
        for (int j = 0; j < 3; j++) {
            if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0) {
                if (vals[j] != NULL) {
                    PyErr_Format(PyExc_TypeError, "set() got multiple values for '%s'", names[j]);
                    return NULL;
                }
                vals[j] = args[nargs + i];
                found = 1;
            }
        }
        if (!found) {
            PyErr_Format(PyExc_TypeError, "set() got an unexpected keyword argument '%U'", name);
            return NULL;
        }
    }
    if (vals[0] == NULL || vals[1] == NULL) {
        PyErr_SetString(PyExc_TypeError, "set() needs a key and a value");
        return NULL;
    }
    if (vals[2] != NULL && vals[2] != Py_None && c->policy != P_TTL) {
        PyErr_Format(PyExc_TypeError, "%.200s does not take a per-item ttl",
                     Py_TYPE(c)->tp_name);
        return NULL;
    }
    if (fc_cache_set(c, vals[0], vals[1], vals[2]) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
m_expire(CacheObject *c, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    /* expire(time=None), as cachetools: positional or keyword */
    PyObject *time_arg[1] = {NULL};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    if (!fc_check_nargs("expire", nargs + nkw, 0, 1))
        return NULL;
    if (nargs == 1)
        time_arg[0] = args[0];
    else if (nkw == 1) {
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "time") != 0) {
            PyErr_Format(PyExc_TypeError, "expire() got an unexpected keyword argument '%U'",
                         PyTuple_GET_ITEM(kwnames, 0));
            return NULL;
        }
        time_arg[0] = args[0];
    }
    args = time_arg;
    nargs = time_arg[0] != NULL;
    double now;
    if (nargs == 0 || args[0] == Py_None) {
        if (fc_read_time(c, &now) < 0)
            return NULL;
    }
    else {
        PyObject *t = Py_NewRef(args[0]);
        int r = time_of(c, t, &now, "expire(time)");
        Py_DECREF(t);
        if (r < 0)
            return NULL;
    }
    fc_pending p;
    fc_pending_init(&p);
    fc_expire_until(c, now, &p);
    FC_ASSERT_CONSISTENT(c);
    PyObject *list = PyList_New(p.n);
    if (list != NULL) {
        for (Py_ssize_t i = 0; i < p.n; i++) {
            PyObject *pair = PyTuple_Pack(2, p.items[i].key, p.items[i].value);
            if (pair == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, i, pair);
        }
    }
    if (list == NULL) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        fc_pending_finish(&p, c->on_evict);
        PyErr_Restore(et, ev, tb);
        return NULL;
    }
    if (fc_pending_finish(&p, c->on_evict) < 0) {
        Py_DECREF(list);
        return NULL;
    }
    return list;
}

static PyObject *
m_remaining_ttl(CacheObject *c, PyObject *key)
{
    Py_hash_t hash;
    double now;
    fc_idx expired, ix = fc_find_live(c, key, &hash, &expired, &now);
    if (ix == FC_ERROR)
        return NULL;
    if (ix < 0) {
        fc_set_key_error(key);
        return NULL;
    }
    if (!fc_time_read_first(c))
        fc_read_time(c, &now);  /* a C clock: cannot fail */
    double left = c->tnodes[ix].deadline - now;
    return c->time_mode == TM_DATETIME ? delta_from_us(left) : PyFloat_FromDouble(left);
}

static PyObject *
g_timer(CacheObject *c, void *x)
{
    if (c->tobj == NULL) {
        PyObject *t = PyObject_CallOneArg((PyObject *)c->st->TimerType, c->timer);
        if (t == NULL)
            return NULL;
        if (c->tobj == NULL)
            c->tobj = (fc_TimerObject *)t;
        else
            Py_DECREF(t);
    }
    return Py_NewRef((PyObject *)c->tobj);
}

static PyObject *
g_ttl(CacheObject *c, void *x)
{
    return Py_NewRef(c->ttl_obj ? c->ttl_obj : Py_None);
}

static PyObject *
g_ttu(CacheObject *c, void *x)
{
    return Py_NewRef(c->ttu ? c->ttu : Py_None);
}

PyGetSetDef fc_ttl_getset[] = {
    {"ttl", (getter)g_ttl, NULL, "The default time to live of the cache's items.", NULL},
    {"timer", (getter)g_timer, NULL, "The cache's timer (cachetools' _Timer).", NULL},
    {NULL},
};

PyGetSetDef fc_tlru_getset[] = {
    {"ttu", (getter)g_ttu, NULL, "The time-to-use function used by the cache.", NULL},
    {"timer", (getter)g_timer, NULL, "The cache's timer (cachetools' _Timer).", NULL},
    {NULL},
};

#define EXPIRE_DEFS                                                                       \
    {"expire", (PyCFunction)(void (*)(void))m_expire, METH_FASTCALL | METH_KEYWORDS,      \
     "expire($self, /, time=None)\n--\n\n"                                                \
     "Remove the items expired at time (default: timer()); return them as (key, value) " \
     "pairs in expiry order."},                                                           \
    {"remaining_ttl", (PyCFunction)m_remaining_ttl, METH_O,                               \
     "remaining_ttl($self, key, /)\n--\n\n"                                               \
     "Time left before key expires (a timedelta when the times are datetimes); "         \
     "KeyError if absent or expired."}

PyMethodDef fc_ttl_methods[] = {
    {"set", (PyCFunction)(void (*)(void))m_set, METH_FASTCALL | METH_KEYWORDS,
     "set($self, /, key, value, ttl=None)\n--\n\n"
     "Store value under key, with its own time to live if ttl is given."},
    EXPIRE_DEFS,
    {NULL, NULL, 0, NULL},
};

PyMethodDef fc_tlru_methods[] = {
    EXPIRE_DEFS,
    {NULL, NULL, 0, NULL},
};
