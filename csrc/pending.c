/*
 * pending.c: the deferred-release list (pending.h).
 */
#include "pending.h"

int
fc_pending_grow(fc_pending *p)
{
    Py_ssize_t cap = p->cap * 2;
    fc_removed *items = PyMem_Malloc((size_t)cap * sizeof(fc_removed));
    if (items == NULL)
        return -1;
    memcpy(items, p->items, (size_t)p->n * sizeof(fc_removed));
    if (p->items != p->inline_items)
        PyMem_Free(p->items);
    p->items = items;
    p->cap = cap;
    return 0;
}

/* Release the pairs and reset the list to its inline room. */
static void
release_all(fc_pending *p)
{
    Py_ssize_t n = p->n;
    fc_removed *items = p->items;
    p->n = 0;
    p->items = p->inline_items;
    p->cap = 8;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_XDECREF(items[i].key);
        Py_XDECREF(items[i].value);
    }
    if (items != p->inline_items)
        PyMem_Free(items);
}

int
fc_pending_finish(fc_pending *p, PyObject *listener)
{
    if (p->n == 0)
        return 0;
    if (listener == NULL) {
        /* nothing to report: an exception the caller has set stays (the finalizers that
         * releasing may run keep it, as CPython's deallocation does) */
        release_all(p);
        return 0;
    }
    PyObject *saved_type = NULL, *saved_value = NULL, *saved_tb = NULL;
    if (PyErr_Occurred())
        PyErr_Fetch(&saved_type, &saved_value, &saved_tb);
    int status = 0;
    PyObject *exc_type = NULL, *exc_value = NULL, *exc_tb = NULL;
    Py_INCREF(listener);
    for (Py_ssize_t i = 0; i < p->n; i++) {
        fc_removed *r = &p->items[i];
        if (r->cause == NULL)
            continue;
        PyObject *args[3] = {r->key, r->value, r->cause};
        PyObject *res = PyObject_Vectorcall(listener, args, 3, NULL);
        if (res != NULL) {
            Py_DECREF(res);
        }
        else if (status == 0) {
            status = -1;
            PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
        }
        else {
            PyErr_WriteUnraisable(listener);
        }
    }
    release_all(p);
    if (saved_type != NULL) {
        /* an operation that failed: its exception wins, a listener's is unraisable */
        if (status < 0) {
            PyErr_Restore(exc_type, exc_value, exc_tb);
            PyErr_WriteUnraisable(listener);
        }
        Py_DECREF(listener);
        PyErr_Restore(saved_type, saved_value, saved_tb);
        return 0;
    }
    Py_DECREF(listener);
    if (status < 0)
        PyErr_Restore(exc_type, exc_value, exc_tb);
    return status;
}

static int
cmp_removed(const void *a, const void *b)
{
    const fc_removed *x = a, *y = b;
    if (x->deadline < y->deadline) return -1;
    if (x->deadline > y->deadline) return 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void
fc_pending_sort(fc_pending *p, Py_ssize_t first)
{
    if (p->n - first > 1)
        qsort(p->items + first, (size_t)(p->n - first), sizeof(fc_removed), cmp_removed);
}
