/*
 * module.c: the module fastcache._core (multi-phase init, PEP 489) and its types.
 *
 * The types are heap types made per module object (PyType_FromModuleAndSpec, PEP 573),
 * and the objects the code shares (interned strings, time.monotonic, random.choice, the
 * base methods that tell an override...) live in the module's state (fc_state, core.h),
 * so each interpreter has its own: the module supports a per-interpreter GIL (3.12+).
 * A cache or wrapper object finds the state through its type once, in tp_new, and keeps the
 * pointer (c->st): the hot paths read it as they read a global, without a lookup. The types
 * are immutable (Py_TPFLAGS_IMMUTABLETYPE: class attributes cannot be set, as with static
 * types), the cache classes subclassable; tp_name keeps "fastcache._core.X" (pickles,
 * reprs). See docs/core-spec.md.
 */
#include "core.h"

#define CACHE_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC \
                     | Py_TPFLAGS_IMMUTABLETYPE)

#define COMMON_ARGS "getsizeof=None, *, on_evict=None, stats=False)\n--\n\n"

static PyType_Slot CacheType_slots[] = {
    {Py_tp_doc, "Cache(maxsize, " COMMON_ARGS
                "Mutable mapping to serve as a simple cache or cache base class."},
    {Py_tp_new, fc_cache_new},
    {Py_tp_init, fc_cache_init},
    {Py_tp_dealloc, fc_cache_dealloc},
    {Py_tp_traverse, fc_cache_traverse},
    {Py_tp_clear, fc_cache_gc_clear},
    {Py_tp_repr, fc_cache_repr},
    {Py_mp_length, fc_cache_length},
    {Py_mp_subscript, fc_cache_subscript},
    {Py_mp_ass_subscript, fc_cache_ass_subscript},
    {Py_sq_contains, fc_cache_contains},
    {Py_tp_iter, fc_cache_iter},
    {Py_tp_methods, fc_cache_methods},
    {Py_tp_getset, fc_cache_getset},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {0, NULL},
};

static PyType_Spec CacheType_spec = {
    .name = "fastcache._core.Cache",
    .basicsize = sizeof(CacheObject),
    .flags = CACHE_FLAGS,
    .slots = CacheType_slots,
};

/* A cache class: Cache's slots (inherited) but its doc, __init__, methods and attributes. */
#define SUBTYPE(var, tpname, doc, init, ...)              \
    static PyType_Slot var##_slots[] = {                \
        {Py_tp_doc, doc},                               \
        {Py_tp_init, init},                             \
        {Py_tp_traverse, fc_cache_traverse},            \
        {Py_tp_clear, fc_cache_gc_clear},               \
        __VA_ARGS__                                     \
        {0, NULL},                                      \
    };                                                  \
    static PyType_Spec var##_spec = {                   \
        .name = "fastcache._core." tpname,              \
        .basicsize = sizeof(CacheObject),               \
        .flags = CACHE_FLAGS,                           \
        .slots = var##_slots,                           \
    };

SUBTYPE(LRUCacheType, "LRUCache",
        "LRUCache(maxsize, " COMMON_ARGS "Least Recently Used (LRU) cache implementation.",
        fc_cache_init)
SUBTYPE(LFUCacheType, "LFUCache",
        "LFUCache(maxsize, " COMMON_ARGS "Least Frequently Used (LFU) cache implementation.",
        fc_cache_init, {Py_tp_methods, fc_lfu_methods},)
SUBTYPE(FIFOCacheType, "FIFOCache",
        "FIFOCache(maxsize, " COMMON_ARGS "First In First Out (FIFO) cache implementation.",
        fc_cache_init)
SUBTYPE(RRCacheType, "RRCache",
        "RRCache(maxsize, choice=random.choice, " COMMON_ARGS
        "Random Replacement (RR) cache implementation.",
        fc_rr_init, {Py_tp_getset, fc_rr_getset},)
SUBTYPE(SIEVECacheType, "SIEVECache",
        "SIEVECache(maxsize, " COMMON_ARGS
        "SIEVE cache (NSDI'24): one FIFO queue, a visited bit set by a hit, a hand that\n"
        "evicts the first unvisited entry from the oldest towards the newest.",
        fc_cache_init)
SUBTYPE(S3FIFOCacheType, "S3FIFOCache",
        "S3FIFOCache(maxsize, getsizeof=None, small_fraction=0.1, ghost_fraction=0.9, *, "
        "on_evict=None, stats=False)\n--\n\n"
        "S3-FIFO cache (SOSP'23): a small FIFO, a main FIFO and a ghost of the hashes of\n"
        "keys evicted from small; 2-bit frequencies decide what moves to main or stays.",
        fc_s3_init, {Py_tp_getset, fc_s3_getset},)
SUBTYPE(TTLCacheType, "TTLCache",
        "TTLCache(maxsize, ttl, timer=time.monotonic, " COMMON_ARGS
        "LRU cache implementation with per-item time-to-live (TTL) value.",
        fc_ttl_init, {Py_tp_methods, fc_ttl_methods}, {Py_tp_getset, fc_ttl_getset},)
SUBTYPE(TLRUCacheType, "TLRUCache",
        "TLRUCache(maxsize, ttu, timer=time.monotonic, " COMMON_ARGS
        "Time aware Least Recently Used (TLRU) cache implementation.",
        fc_tlru_init, {Py_tp_methods, fc_tlru_methods}, {Py_tp_getset, fc_tlru_getset},)
SUBTYPE(WTinyLFUCacheType, "WTinyLFUCache",
        "WTinyLFUCache(maxsize, getsizeof=None, window=0.01, adaptive=True, seed=None, *, "
        "on_evict=None, stats=False)\n--\n\n"
        "Window TinyLFU cache: a small LRU window in front of a segmented LRU whose entries are\n"
        "admitted by a frequency sketch; adaptive (True) picks the window's and the protected\n"
        "segment's sizes and the admission rule (the sketch's filter, none, or S3-FIFO's\n"
        "rules) by miniature simulations, \"climb\" sizes the window with a hill climber,\n"
        "False keeps them fixed.",
        fc_wtlfu_init)

PyObject *
fc_import_attr(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
}

static struct PyModuleDef core_module;

fc_state *
fc_state_of_type(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *m = PyType_GetModuleByDef(type, &core_module);
#else
    /* 3.10: PyType_GetModuleByDef's walk of the MRO */
    PyObject *m = NULL, *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro) && m == NULL; i++) {
        PyTypeObject *b = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        PyObject *bm = PyType_HasFeature(b, Py_TPFLAGS_HEAPTYPE)
                       ? ((PyHeapTypeObject *)b)->ht_module : NULL;
        if (bm != NULL && PyModule_GetDef(bm) == &core_module)
            m = bm;
    }
    if (m == NULL)
        PyErr_Format(PyExc_TypeError, "PyType_GetModuleByDef: No superclass of '%s' has "
                     "the given module", type->tp_name);
#endif
    return m == NULL ? NULL : (fc_state *)PyModule_GetState(m);
}

PyTypeObject *
fc_new_type(PyObject *m, PyType_Spec *spec, PyTypeObject *base)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(m, spec, (PyObject *)base);
}

/* The module's types and objects, in its state. */
static int
state_init(PyObject *m, fc_state *st)
{
#define INTERN(var, s) if ((st->var = PyUnicode_InternFromString(s)) == NULL) return -1;
    INTERN(str_evicted, "evicted")
    INTERN(str_expired, "expired")
    INTERN(str_replaced, "replaced")
    INTERN(str_deleted, "deleted")
    INTERN(str_missing, "__missing__")
    INTERN(str_popitem, "popitem")
    INTERN(str_getsizeof, "getsizeof")
#undef INTERN
    if ((st->time_monotonic = fc_import_attr("time", "monotonic")) == NULL ||
        (st->time_time = fc_import_attr("time", "time")) == NULL ||
        (st->random_choice = fc_import_attr("random", "choice")) == NULL ||
        (st->CacheStatsType = fc_import_attr("fastcache._types", "CacheStats")) == NULL ||
        (st->restore_func = PyObject_GetAttrString(m, "_restore")) == NULL)
        return -1;
    if ((st->KeyIterType = fc_new_type(m, &fc_KeyIterSpec, NULL)) == NULL ||
        (st->TimerType = fc_new_type(m, &fc_TimerSpec, NULL)) == NULL ||
        (st->CacheType = fc_new_type(m, &CacheType_spec, NULL)) == NULL)
        return -1;
#define NEW_SUBTYPE(var) \
    if ((st->var = fc_new_type(m, &var##_spec, st->CacheType)) == NULL) return -1;
    FC_STATE_CACHE_TYPES(NEW_SUBTYPE)
#undef NEW_SUBTYPE
    PyObject *base = (PyObject *)st->CacheType;
    if ((st->base_popitem = PyObject_GetAttr(base, st->str_popitem)) == NULL ||
        (st->base_missing = PyObject_GetAttr(base, st->str_missing)) == NULL ||
        (st->base_getsizeof = PyObject_GetAttr(base, st->str_getsizeof)) == NULL)
        return -1;
    return 0;
}

static int
core_exec(PyObject *m)
{
    fc_state *st = PyModule_GetState(m);
    if (state_init(m, st) < 0)
        return -1;
    fc_clock_init();
#define ADD_TYPE(var) if (PyModule_AddType(m, st->var) < 0) return -1;
    ADD_TYPE(CacheType)
    FC_STATE_CACHE_TYPES(ADD_TYPE)
    ADD_TYPE(TimerType)
#undef ADD_TYPE
    if (PyModule_AddObjectRef(m, "EVICTED", st->str_evicted) < 0 ||
        PyModule_AddObjectRef(m, "EXPIRED", st->str_expired) < 0 ||
        PyModule_AddObjectRef(m, "REPLACED", st->str_replaced) < 0 ||
        PyModule_AddObjectRef(m, "DELETED", st->str_deleted) < 0 ||
        PyModule_AddObjectRef(m, "CacheStats", st->CacheStatsType) < 0)
        return -1;
    if (PyModule_AddIntConstant(m, "DEBUG",
#ifdef FC_DEBUG
                                1
#else
                                0
#endif
                                ) < 0)
        return -1;
    /* the decorators' call wrappers (wrapper.c) */
    if (fc_wrapper_add(m, st) < 0)
        return -1;
    /* the trace simulator (sim.c): sim_run and SIM_POLICIES */
    if (fc_sim_add(m) < 0)
        return -1;
    return 0;
}

static int
core_traverse(PyObject *m, visitproc visit, void *arg)
{
    fc_state *st = PyModule_GetState(m);
    if (st == NULL)
        return 0;
#define VISIT(var) Py_VISIT(st->var);
    FC_STATE_TYPES(VISIT)
    FC_STATE_OBJECTS(VISIT)
#undef VISIT
    return 0;
}

static int
core_clear(PyObject *m)
{
    fc_state *st = PyModule_GetState(m);
    if (st == NULL)
        return 0;
#define CLEAR(var) Py_CLEAR(st->var);
    FC_STATE_TYPES(CLEAR)
    FC_STATE_OBJECTS(CLEAR)
#undef CLEAR
    return 0;
}

static void
core_free(void *m)
{
    core_clear((PyObject *)m);
}

static PyMethodDef core_functions[] = {
    {"_restore", fc_restore, METH_VARARGS,
     "_restore(type, config, entries=None, /)\n--\n\nRebuild a pickled cache."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fastcache._core",
    .m_doc = "Compiled cache classes and decorator wrappers (see docs/core-spec.md).",
    .m_size = sizeof(fc_state),
    .m_methods = core_functions,
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
