/*
 * table.c: the slow paths of the open-addressing table (table.h): the one growth mechanism
 * (with the index rebuild), detaching for clear(). Index insertion and deletion by backward
 * shift are on every write's path: table.h has them inline.
 */
#include "table.h"

#if defined(_MSC_VER)
__declspec(thread) void *fc_comparing = NULL;
#else
_Thread_local void *fc_comparing = NULL;
#endif

/* Rebuild the index with `nslots` slots (a power of two >= 8 and > t->len). */
static int
index_build(fc_table *t, size_t nslots)
{
    int bits = 0;
    while (((size_t)1 << bits) < nslots)
        bits++;
    fc_idx *index = PyMem_Malloc(nslots * sizeof(fc_idx));
    if (index == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(index, 0xff, nslots * sizeof(fc_idx));
    PyMem_Free(t->index);
    t->index = index;
    t->mask = nslots - 1;
    t->shift = 64 - bits;
    for (Py_ssize_t ix = 0; ix < t->top; ix++)
        if (t->entries[ix].key != NULL)
            fc_index_put(t, (fc_idx)ix);
    fc_table_changed(t);
    return 0;
}

int
fc_table_grow(fc_table *t, Py_ssize_t limit, fc_resize_fn resize, void *owner)
{
    if (limit > FC_MAX_ENTRIES)
        limit = FC_MAX_ENTRIES;
    Py_ssize_t cap = t->cap + (t->cap >> 1) + 8;
    if (cap > limit)
        cap = limit > t->cap ? limit : t->cap + 1;
    if (cap > FC_MAX_ENTRIES) {
        PyErr_SetString(PyExc_OverflowError, "cache holds too many entries");
        return -1;
    }
    fc_entry *entries = PyMem_Realloc(t->entries, (size_t)cap * sizeof(fc_entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    t->entries = entries;
    if (resize != NULL && resize(owner, cap) < 0)
        return -1;
    /* the index last: if it cannot be made, cap (what the index can hold) is not raised */
    size_t nslots = 8;
    while (nslots < (size_t)cap * (size_t)t->load)
        nslots <<= 1;
    if ((t->index == NULL || t->mask + 1 < nslots) && index_build(t, nslots) < 0)
        return -1;
    t->cap = cap;
    fc_table_changed(t);
    return 0;
}

fc_entry *
fc_table_detach(fc_table *t, Py_ssize_t *top)
{
    fc_entry *entries = t->entries;
    *top = t->top;
    PyMem_Free(t->index);
    fc_table_init(t, t->load);
    return entries;
}

void
fc_entries_release(fc_entry *entries, Py_ssize_t top)
{
    for (Py_ssize_t i = 0; i < top; i++) {
        Py_XDECREF(entries[i].key);
        Py_XDECREF(entries[i].value);
    }
    PyMem_Free(entries);
}
