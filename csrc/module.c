/*
 * module.c: the module fastcache._core (multi-phase init, PEP 489) and its types.
 *
 * The types are static (as the interpreter's own); their shared objects (interned
 * strings, time.monotonic, random.choice...) are made once, at the first exec, in fc_g.
 * So the module declares that it does not support several interpreters (3.12+): heap
 * types and per-module state (PyType_FromModuleAndSpec) would lift that, at the cost of a
 * state lookup on the paths that now read fc_g; see docs/core-spec.md.
 */
#include "core.h"

fc_shared fc_g;

#define CACHE_FLAGS (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC)

#define COMMON_ARGS "getsizeof=None, *, on_evict=None, stats=False)\n--\n\n"

PyTypeObject fc_CacheType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fastcache._core.Cache",
    .tp_doc = "Cache(maxsize, " COMMON_ARGS
              "Mutable mapping to serve as a simple cache or cache base class.",
    .tp_basicsize = sizeof(CacheObject),
    .tp_flags = CACHE_FLAGS,
    .tp_new = fc_cache_new,
    .tp_init = (initproc)fc_cache_init,
    .tp_dealloc = (destructor)fc_cache_dealloc,
    .tp_traverse = (traverseproc)fc_cache_traverse,
    .tp_clear = (inquiry)fc_cache_gc_clear,
    .tp_repr = (reprfunc)fc_cache_repr,
    .tp_as_mapping = &fc_cache_as_mapping,
    .tp_as_sequence = &fc_cache_as_sequence,
    .tp_iter = (getiterfunc)fc_cache_iter,
    .tp_methods = fc_cache_methods,
    .tp_getset = fc_cache_getset,
    .tp_hash = PyObject_HashNotImplemented,
};

#define SUBTYPE(var, name, doc, init, methods, getset)   \
    PyTypeObject var = {                                 \
        PyVarObject_HEAD_INIT(NULL, 0)                   \
        .tp_name = "fastcache._core." name,              \
        .tp_doc = doc,                                   \
        .tp_basicsize = sizeof(CacheObject),             \
        .tp_flags = CACHE_FLAGS,                         \
        .tp_base = &fc_CacheType,                        \
        .tp_traverse = (traverseproc)fc_cache_traverse,  \
        .tp_clear = (inquiry)fc_cache_gc_clear,          \
        .tp_init = (initproc)init,                       \
        .tp_methods = methods,                           \
        .tp_getset = getset,                             \
    };

SUBTYPE(fc_LRUCacheType, "LRUCache",
        "LRUCache(maxsize, " COMMON_ARGS "Least Recently Used (LRU) cache implementation.",
        fc_cache_init, NULL, NULL)
SUBTYPE(fc_LFUCacheType, "LFUCache",
        "LFUCache(maxsize, " COMMON_ARGS "Least Frequently Used (LFU) cache implementation.",
        fc_cache_init, fc_lfu_methods, NULL)
SUBTYPE(fc_FIFOCacheType, "FIFOCache",
        "FIFOCache(maxsize, " COMMON_ARGS "First In First Out (FIFO) cache implementation.",
        fc_cache_init, NULL, NULL)
SUBTYPE(fc_RRCacheType, "RRCache",
        "RRCache(maxsize, choice=random.choice, " COMMON_ARGS
        "Random Replacement (RR) cache implementation.",
        fc_rr_init, NULL, fc_rr_getset)
SUBTYPE(fc_SIEVECacheType, "SIEVECache",
        "SIEVECache(maxsize, " COMMON_ARGS
        "SIEVE cache (NSDI'24): one FIFO queue, a visited bit set by a hit, a hand that\n"
        "evicts the first unvisited entry from the oldest towards the newest.",
        fc_cache_init, NULL, NULL)
SUBTYPE(fc_S3FIFOCacheType, "S3FIFOCache",
        "S3FIFOCache(maxsize, getsizeof=None, small_fraction=0.1, ghost_fraction=0.9, *, "
        "on_evict=None, stats=False)\n--\n\n"
        "S3-FIFO cache (SOSP'23): a small FIFO, a main FIFO and a ghost of the hashes of\n"
        "keys evicted from small; 2-bit frequencies decide what moves to main or stays.",
        fc_s3_init, NULL, fc_s3_getset)
SUBTYPE(fc_TTLCacheType, "TTLCache",
        "TTLCache(maxsize, ttl, timer=time.monotonic, " COMMON_ARGS
        "LRU cache implementation with per-item time-to-live (TTL) value.",
        fc_ttl_init, fc_ttl_methods, fc_ttl_getset)
SUBTYPE(fc_TLRUCacheType, "TLRUCache",
        "TLRUCache(maxsize, ttu, timer=time.monotonic, " COMMON_ARGS
        "Time aware Least Recently Used (TLRU) cache implementation.",
        fc_tlru_init, fc_tlru_methods, fc_tlru_getset)

SUBTYPE(fc_WTinyLFUCacheType, "WTinyLFUCache",
        "WTinyLFUCache(maxsize, getsizeof=None, window=0.01, adaptive=True, seed=None, *, "
        "on_evict=None, stats=False)\n--\n\n"
        "Window TinyLFU cache: a small LRU window in front of a segmented LRU whose entries are\n"
        "admitted by a frequency sketch; adaptive (True) picks the window's and the protected\n"
        "segment's sizes and the filter by miniature simulations, \"climb\" sizes the window\n"
        "with a hill climber, False keeps them fixed.",
        fc_wtlfu_init, NULL, NULL)

static PyObject *
import_attr(const char *module, const char *name)
{
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, name);
    Py_DECREF(m);
    return a;
}

/* fc_g, once per process. */
static int
shared_init(PyObject *module)
{
    if (fc_g.str_evicted != NULL)
        return 0;
#define INTERN(var, s) if ((fc_g.var = PyUnicode_InternFromString(s)) == NULL) return -1
    INTERN(str_evicted, "evicted");
    INTERN(str_expired, "expired");
    INTERN(str_replaced, "replaced");
    INTERN(str_deleted, "deleted");
    INTERN(str_missing, "__missing__");
    INTERN(str_popitem, "popitem");
    INTERN(str_getsizeof, "getsizeof");
#undef INTERN
    if ((fc_g.time_monotonic = import_attr("time", "monotonic")) == NULL ||
        (fc_g.time_time = import_attr("time", "time")) == NULL ||
        (fc_g.random_choice = import_attr("random", "choice")) == NULL ||
        (fc_g.CacheStatsType = import_attr("fastcache._types", "CacheStats")) == NULL ||
        (fc_g.restore_func = PyObject_GetAttrString(module, "_restore")) == NULL)
        return -1;
    if (PyType_Ready(&fc_KeyIterType) < 0 || PyType_Ready(&fc_CacheType) < 0 ||
        PyType_Ready(&fc_TimerType) < 0)
        return -1;
    PyTypeObject *subs[] = {&fc_LRUCacheType, &fc_LFUCacheType, &fc_FIFOCacheType,
                            &fc_RRCacheType, &fc_TTLCacheType, &fc_TLRUCacheType,
                            &fc_SIEVECacheType, &fc_S3FIFOCacheType,
                            &fc_WTinyLFUCacheType};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (PyType_Ready(subs[i]) < 0)
            return -1;
    PyObject *base = (PyObject *)&fc_CacheType;
    if ((fc_g.base_popitem = PyObject_GetAttr(base, fc_g.str_popitem)) == NULL ||
        (fc_g.base_missing = PyObject_GetAttr(base, fc_g.str_missing)) == NULL ||
        (fc_g.base_getsizeof = PyObject_GetAttr(base, fc_g.str_getsizeof)) == NULL)
        return -1;
    fc_clock_init();
    return 0;
}

static int
core_exec(PyObject *m)
{
    if (shared_init(m) < 0)
        return -1;
    PyTypeObject *all[] = {&fc_CacheType, &fc_LRUCacheType, &fc_LFUCacheType,
                           &fc_FIFOCacheType, &fc_RRCacheType, &fc_TTLCacheType,
                           &fc_TLRUCacheType, &fc_SIEVECacheType, &fc_S3FIFOCacheType,
                           &fc_WTinyLFUCacheType, &fc_TimerType};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (PyModule_AddObjectRef(m, fc_type_name(all[i]), (PyObject *)all[i]) < 0)
            return -1;
    if (PyModule_AddObjectRef(m, "EVICTED", fc_g.str_evicted) < 0 ||
        PyModule_AddObjectRef(m, "EXPIRED", fc_g.str_expired) < 0 ||
        PyModule_AddObjectRef(m, "REPLACED", fc_g.str_replaced) < 0 ||
        PyModule_AddObjectRef(m, "DELETED", fc_g.str_deleted) < 0 ||
        PyModule_AddObjectRef(m, "CacheStats", fc_g.CacheStatsType) < 0)
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
    if (fc_wrapper_add(m) < 0)
        return -1;
    /* the trace simulator (sim.c): sim_run and SIM_POLICIES */
    if (fc_sim_add(m) < 0)
        return -1;
    return 0;
}

static PyMethodDef core_functions[] = {
    {"_restore", fc_restore, METH_VARARGS,
     "_restore(type, config, entries=None, /)\n--\n\nRebuild a pickled cache."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
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
    .m_size = 0,
    .m_methods = core_functions,
    .m_slots = core_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&core_module);
}
