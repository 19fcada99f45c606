/* spoorhound.core._extract_c: the extractor's per-occurrence hot loops, in C.
 *
 * An optional accelerator for spoorhound.core.extract. The pure-Python modules
 * (_extract_run, _extract_emit) are the reference; every function here does exactly
 * what the Python code it replaces does, and calls back into Python for the work done
 * once per distinct token (Run._dotted_kind, Run._learn -> normalize). Nothing is
 * cached across calls: all state lives in the Run object and in locals.
 *
 *   dotted(run, ends)     Run.dotted: scans the "dot" tokens for DOTTED matches (a
 *                         hand-written matcher, exactly the regex's matches) and runs
 *                         the per-match checks, appending rows to run.rows.
 *   columns(rows, omap)   emit's columns: refanged starts, confidences, flags, original
 *                         offsets (OffsetMap.spans), the defanged rows, and the order
 *                         (original start, then longest first, then insertion order).
 *   build(...)            emit's last step: one Candidate per row, in that order.
 *
 * Every loop is linear in its input; errors propagate as Python exceptions.
 * SOURCE_HASH (a -D define from setup.py) lets the Python side detect a stale build.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef SOURCE_HASH
#define SOURCE_HASH "unknown"
#endif

/* ---- constants handed over once by configure() ------------------------------- */

static PyObject *T_CIDR, *T_IPV4, *T_DOMAIN, *T_FILENAME;
static PyObject *URL_HOST, *EMAIL_DOMAIN, *EMPTY, *S_EXAMPLE;
static PyTypeObject *CANDIDATE;
#define N_FIELDS 9
static const char *const FIELD_NAMES[N_FIELDS] = {
    "type", "value", "span", "start", "end", "confidence", "context", "flags", "safelist"};
static Py_ssize_t FIELD_OFFSETS[N_FIELDS];

enum { KIND_IP = 1, KIND_FILE_EXT = 2, KIND_HOST = 3 };

static int
ready(void)
{
    if (CANDIDATE == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_extract_c.configure() was not called");
        return 0;
    }
    return 1;
}

static void
set_const(PyObject **slot, PyObject *value)
{
    Py_INCREF(value);
    Py_XSETREF(*slot, value);
}

static PyObject *
configure(PyObject *self, PyObject *args)
{
    PyObject *cidr, *ipv4, *domain, *filename, *url_host, *email_domain, *cand;
    if (!PyArg_ParseTuple(args, "OOOOO!O!O!:configure", &cidr, &ipv4, &domain, &filename,
                          &PyTuple_Type, &url_host, &PyTuple_Type, &email_domain, &PyType_Type,
                          &cand))
        return NULL;
    PyTypeObject *tp = (PyTypeObject *)cand;
    Py_ssize_t offsets[N_FIELDS];
    for (int k = 0; k < N_FIELDS; k++) {
        PyObject *descr = PyObject_GetAttrString(cand, FIELD_NAMES[k]);
        if (descr == NULL)
            return NULL;
        int ok = Py_IS_TYPE(descr, &PyMemberDescr_Type);
        if (ok) {
            PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
            ok = m->type == T_OBJECT_EX && m->offset >= (Py_ssize_t)sizeof(PyObject) &&
                 m->offset + (Py_ssize_t)sizeof(PyObject *) <= tp->tp_basicsize;
            offsets[k] = m->offset;
        }
        Py_DECREF(descr);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "Candidate.%s is not a plain slot", FIELD_NAMES[k]);
            return NULL;
        }
    }
    if (tp->tp_itemsize != 0 || tp->tp_dictoffset != 0 || tp->tp_alloc == NULL) {
        PyErr_SetString(PyExc_TypeError, "Candidate must be a slotted class");
        return NULL;
    }
    memcpy(FIELD_OFFSETS, offsets, sizeof(offsets));
    set_const(&T_CIDR, cidr);
    set_const(&T_IPV4, ipv4);
    set_const(&T_DOMAIN, domain);
    set_const(&T_FILENAME, filename);
    set_const(&URL_HOST, url_host);
    set_const(&EMAIL_DOMAIN, email_domain);
    set_const((PyObject **)&CANDIDATE, cand);
    Py_RETURN_NONE;
}

/* ---- small helpers -------------------------------------------------------------- */

typedef struct {
    Py_ssize_t n;
    int64_t *v;
} Offsets;

/* A list of ints as a C array (n = -1 on error). */
static Offsets
offsets_of(PyObject *list)
{
    Offsets out = {-1, NULL};
    if (!PyList_Check(list)) {
        PyErr_SetString(PyExc_TypeError, "expected a list of ints");
        return out;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    out.v = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (out.v == NULL) {
        PyErr_NoMemory();
        return out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t x = PyLong_AsSsize_t(PyList_GET_ITEM(list, i));
        if (x == -1 && PyErr_Occurred()) {
            PyMem_Free(out.v);
            out.v = NULL;
            return out;
        }
        out.v[i] = x;
    }
    out.n = n;
    return out;
}

/* list.append(int(v)); 0, or -1 on error. */
static int
append_int(PyObject *list, int64_t v)
{
    PyObject *x = PyLong_FromLongLong(v);
    if (x == NULL)
        return -1;
    int r = PyList_Append(list, x);
    Py_DECREF(x);
    return r;
}

/* Number of items <= x in the sorted array (bisect_right). */
static Py_ssize_t
bisect_right64(const int64_t *a, Py_ssize_t n, int64_t x)
{
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + ((hi - lo) >> 1);
        if (x < a[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ASCII [0-9A-Za-z_], then sre's Unicode \w (SRE_UNI_IS_WORD) beyond ASCII; on ASCII
   text the same as re.ASCII's \w. */
static unsigned char ASCII_WORD[128];

static inline int
is_word(Py_UCS4 ch)
{
    if (ch < 128)
        return ASCII_WORD[ch];
    return Py_UNICODE_ISALNUM(ch);
}

static inline int
is_wd(Py_UCS4 ch)
{
    return ch == '-' || is_word(ch);
}

static inline int
is_digit09(Py_UCS4 ch)
{
    return ch >= '0' && ch <= '9';
}

/* ---- dotted ------------------------------------------------------------------------ */

typedef struct {
    PyObject *types, *norm, *examples, *rows, *learn;
} AddCtx;

/* Run.add: 1 if recorded, 0 if not, -1 on error. */
static int
run_add(AddCtx *cx, PyObject *itype, PyObject *raw, Py_ssize_t start, Py_ssize_t end, long conf,
        PyObject *flags)
{
    int r = PySet_Contains(cx->types, itype);
    if (r <= 0)
        return r;
    PyObject *key = PyTuple_Pack(2, itype, raw);
    if (key == NULL)
        return -1;
    PyObject *value = PyDict_GetItemWithError(cx->norm, key);
    if (value != NULL) {
        Py_INCREF(value);
    }
    else {
        if (PyErr_Occurred())
            goto fail_key;
        value = PyObject_CallOneArg(cx->learn, key);
        if (value == NULL)
            goto fail_key;
    }
    if (value == Py_None) {
        Py_DECREF(value);
        Py_DECREF(key);
        return 0;
    }
    int example = 0;
    if (PySet_GET_SIZE(cx->examples)) {
        example = PySet_Contains(cx->examples, key);
        if (example < 0)
            goto fail_value;
    }
    PyObject *row;
    if (example) {
        Py_ssize_t nf = PyTuple_GET_SIZE(flags);
        PyObject *more = PyTuple_New(nf + 1);
        if (more == NULL)
            goto fail_value;
        for (Py_ssize_t i = 0; i < nf; i++) {
            PyObject *f = PyTuple_GET_ITEM(flags, i);
            Py_INCREF(f);
            PyTuple_SET_ITEM(more, i, f);
        }
        Py_INCREF(S_EXAMPLE);
        PyTuple_SET_ITEM(more, nf, S_EXAMPLE);
        row = Py_BuildValue("(nnOOlN)", start, end, itype, value, conf - 40, more);
    }
    else {
        row = Py_BuildValue("(nnOOlO)", start, end, itype, value, conf, flags);
    }
    if (row == NULL)
        goto fail_value;
    r = PyList_Append(cx->rows, row);
    Py_DECREF(row);
    Py_DECREF(value);
    Py_DECREF(key);
    return r < 0 ? -1 : 1;
fail_value:
    Py_DECREF(value);
fail_key:
    Py_DECREF(key);
    return -1;
}

static int
append_file_row(PyObject *rows, Py_ssize_t start, Py_ssize_t end, PyObject *core)
{
    PyObject *row = Py_BuildValue("(nnOOiO)", start, end, T_FILENAME, core, 50, EMPTY);
    if (row == NULL)
        return -1;
    int r = PyList_Append(rows, row);
    Py_DECREF(row);
    return r;
}

/* (any) -> C truth of a Python object, -1 on error */
#define TRUTH(o) PyObject_IsTrue(o)

typedef struct {
    /* from the run */
    PyObject *text, *url_hosts, *omap, *rows, *kind_of, *versionish;
    int kind;
    const void *data;
    Py_ssize_t n_text;
    Offsets url_starts, url_ends, path_starts, path_ends;
    int want_domain, want_file;
    AddCtx add;
    PyObject *kinds; /* token -> kind tuple or None, for this call only */
} Dotted;

/* The per-match checks of Run.dotted for the match text[start:end]; 0 or -1. */
static int
dotted_match(Dotted *d, Py_ssize_t start, Py_ssize_t end)
{
    const void *data = d->data;
    int ukind = d->kind;
    int in_url = 0;
    if (d->url_starts.n > 0) {
        PyObject *s = PyLong_FromSsize_t(start);
        if (s == NULL)
            return -1;
        int r = PySet_Contains(d->url_hosts, s);
        Py_DECREF(s);
        if (r < 0)
            return -1;
        if (r) {
            in_url = 1;
        }
        else {
            Py_ssize_t i = bisect_right64(d->url_starts.v, d->url_starts.n, start);
            if (i > 0 && d->url_ends.v[i - 1] > start)
                return 0; /* path parts of a URL are not separate indicators */
        }
    }
    if (d->path_starts.n > 0) {
        Py_ssize_t i = bisect_right64(d->path_starts.v, d->path_starts.n, start);
        if (i > 0 && d->path_ends.v[i - 1] > start)
            return 0;
    }
    PyObject *tok = PyUnicode_Substring(d->text, start, end);
    if (tok == NULL)
        return -1;
    PyObject *kind = PyDict_GetItemWithError(d->kinds, tok); /* borrowed */
    if (kind == NULL) {
        if (PyErr_Occurred()) {
            Py_DECREF(tok);
            return -1;
        }
        kind = PyObject_CallOneArg(d->kind_of, tok);
        if (kind == NULL) {
            Py_DECREF(tok);
            return -1;
        }
        int r = PyDict_SetItem(d->kinds, tok, kind);
        Py_DECREF(kind); /* the dict holds it */
        if (r < 0) {
            Py_DECREF(tok);
            return -1;
        }
    }
    Py_DECREF(tok);
    if (kind == Py_None)
        return 0;
    if (!PyTuple_Check(kind) || PyTuple_GET_SIZE(kind) != 6) {
        PyErr_SetString(PyExc_TypeError, "_dotted_kind must return a 6-tuple or None");
        return -1;
    }
    Py_INCREF(kind); /* the dict may lose it if a callback touches it: keep it alive */
    int result = -1;
    PyObject *core = PyTuple_GET_ITEM(kind, 2), *extra = PyTuple_GET_ITEM(kind, 3);
    long what = PyLong_AsLong(PyTuple_GET_ITEM(kind, 0));
    Py_ssize_t rel = PyLong_AsSsize_t(PyTuple_GET_ITEM(kind, 1));
    if ((what == -1 || rel == -1) && PyErr_Occurred())
        goto done;
    if (!PyUnicode_Check(core) || !PyUnicode_Check(extra)) {
        PyErr_SetString(PyExc_TypeError, "_dotted_kind: core and extra must be str");
        goto done;
    }
    int has_extra = PyUnicode_GET_LENGTH(extra) > 0;
    Py_ssize_t cstart = start + rel;
    Py_ssize_t cend = cstart + PyUnicode_GET_LENGTH(core);
    if (what == KIND_IP) {
        PyObject *v = PyObject_CallFunction(d->versionish, "n", cstart);
        if (v == NULL)
            goto done;
        int versionish = TRUTH(v);
        Py_DECREF(v);
        if (versionish < 0)
            goto done;
        if (versionish) {
            result = 0;
            goto done;
        }
        long conf = in_url ? 85 : 80;
        if (has_extra) {
            PyObject *cidr = PyUnicode_Concat(core, extra);
            if (cidr == NULL)
                goto done;
            int r = run_add(&d->add, T_CIDR, cidr, cstart, cend + PyUnicode_GET_LENGTH(extra),
                            conf, EMPTY);
            Py_DECREF(cidr);
            if (r < 0)
                goto done;
            if (r) {
                result = 0;
                goto done;
            }
        }
        if (run_add(&d->add, T_IPV4, core, cstart, cend, conf, in_url ? URL_HOST : EMPTY) < 0)
            goto done;
        result = 0;
        goto done;
    }
    if (what == KIND_FILE_EXT) {
        result = in_url ? 0 : append_file_row(d->rows, cstart, cend, core);
        goto done;
    }
    /* a host name, unless the text around makes it code */
    int mixed = TRUTH(PyTuple_GET_ITEM(kind, 4));
    int code = TRUTH(PyTuple_GET_ITEM(kind, 5));
    if (mixed < 0 || code < 0)
        goto done;
    int touched = 0;
    if (mixed && d->omap != Py_None) {
        PyObject *t = PyObject_CallMethod(d->omap, "touches", "nn", cstart, cend);
        if (t == NULL)
            goto done;
        touched = TRUTH(t);
        Py_DECREF(t);
        if (touched < 0)
            goto done;
    }
    if (!touched) {
        Py_ssize_t n = d->n_text;
        int skip = code;
        if (!skip && cend < n) {
            Py_UCS4 c = PyUnicode_READ(ukind, data, cend);
            skip = c == '(' ||
                   (c == '.' && cend + 1 < n && PyUnicode_READ(ukind, data, cend + 1) == '*');
        }
        if (!skip && cstart >= 4) {
            skip = PyUnicode_READ(ukind, data, cstart - 4) == 'n' &&
                   PyUnicode_READ(ukind, data, cstart - 3) == 'e' &&
                   PyUnicode_READ(ukind, data, cstart - 2) == 'w' &&
                   PyUnicode_READ(ukind, data, cstart - 1) == ' ';
        }
        if (skip) {
            result = 0;
            goto done;
        }
    }
    if (has_extra && !in_url) { /* a TLD that is more often a file extension */
        result = d->want_file ? append_file_row(d->rows, cstart, cend, core) : 0;
        goto done;
    }
    if (!d->want_domain) {
        result = 0;
        goto done;
    }
    int r;
    if (in_url)
        r = run_add(&d->add, T_DOMAIN, core, cstart, cend, 80, URL_HOST);
    else if (start && PyUnicode_READ(ukind, data, start - 1) == '@')
        r = run_add(&d->add, T_DOMAIN, core, cstart, cend, 70, EMAIL_DOMAIN);
    else
        r = run_add(&d->add, T_DOMAIN, core, cstart, cend, 70, EMPTY);
    result = r < 0 ? -1 : 0;
done:
    Py_DECREF(kind);
    return result;
}

/* The matches of DOTTED in the token text[s:e], each handed to dotted_match.
 *
 *   (?<![\w-])[\w-]++(?:\.[\w-]++)++(?:/[0-9]{1,2}+(?![\w/.]))?(?::[0-9]{1,5}+(?![\w:]))?
 *
 * The characters just outside a token are whitespace, which none of the pattern's
 * classes or look-arounds accept: scanning the token within the text finds exactly
 * what the regex finds in the token blob ("\n" between tokens).
 */
static int
dotted_token(Dotted *d, Py_ssize_t s, Py_ssize_t e)
{
    const void *data = d->data;
    int kind = d->kind;
    Py_ssize_t p = s;
    while (p < e) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (!is_wd(c)) {
            p++;
            continue;
        }
        if (p > s && is_wd(PyUnicode_READ(kind, data, p - 1))) {
            p++; /* the look-behind fails inside a run */
            continue;
        }
        Py_ssize_t q = p + 1;
        while (q < e && is_wd(PyUnicode_READ(kind, data, q)))
            q++;
        int labels = 0;
        while (q + 1 < e && PyUnicode_READ(kind, data, q) == '.' &&
               is_wd(PyUnicode_READ(kind, data, q + 1))) {
            q += 2;
            while (q < e && is_wd(PyUnicode_READ(kind, data, q)))
                q++;
            labels++;
        }
        if (!labels) {
            p = q; /* every start inside the run fails the look-behind */
            continue;
        }
        if (q < e && PyUnicode_READ(kind, data, q) == '/') {
            Py_ssize_t r = q + 1;
            while (r < e && r < q + 3 && is_digit09(PyUnicode_READ(kind, data, r)))
                r++;
            if (r > q + 1) {
                Py_UCS4 a = r < e ? PyUnicode_READ(kind, data, r) : ' ';
                if (!(is_word(a) || a == '/' || a == '.'))
                    q = r;
            }
        }
        if (q < e && PyUnicode_READ(kind, data, q) == ':') {
            Py_ssize_t r = q + 1;
            while (r < e && r < q + 6 && is_digit09(PyUnicode_READ(kind, data, r)))
                r++;
            if (r > q + 1) {
                Py_UCS4 a = r < e ? PyUnicode_READ(kind, data, r) : ' ';
                if (!(is_word(a) || a == ':'))
                    q = r;
            }
        }
        if (dotted_match(d, p, q) < 0)
            return -1;
        p = q;
    }
    return 0;
}

/* ---- token spans --------------------------------------------------------------------- */

/* sre's \s on str (Py_UNICODE_ISSPACE) */
static inline int
is_space(Py_UCS4 ch)
{
    return Py_UNICODE_ISSPACE(ch);
}

/* tokens(text, kind) -> (starts, ends): _extract_tokens.token_spans without the regex
 * scans. A token is a maximal run of non-space characters; kind "dot" keeps those
 * holding a "." followed by a word character or "-", kind "colons" those holding two
 * or more ":". */
static PyObject *
tokens(PyObject *self, PyObject *args)
{
    PyObject *text;
    const char *which;
    if (!PyArg_ParseTuple(args, "Us:tokens", &text, &which))
        return NULL;
    int dot;
    if (strcmp(which, "dot") == 0)
        dot = 1;
    else if (strcmp(which, "colons") == 0)
        dot = 0;
    else {
        PyErr_SetString(PyExc_ValueError, "tokens: kind is 'dot' or 'colons'");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    Py_UCS4 mark = dot ? '.' : ':';
    PyObject *starts = PyList_New(0), *ends = PyList_New(0);
    if (starts == NULL || ends == NULL)
        goto fail;
    Py_ssize_t pos = 0; /* no token of interest starts before pos */
    while (pos < n) {
        /* the next mark */
        Py_ssize_t at;
        if (kind == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *hit = memchr((const Py_UCS1 *)data + pos, (int)mark, (size_t)(n - pos));
            if (hit == NULL)
                break;
            at = hit - (const Py_UCS1 *)data;
        }
        else {
            at = pos;
            while (at < n && PyUnicode_READ(kind, data, at) != mark)
                at++;
            if (at == n)
                break;
        }
        /* the token around it */
        Py_ssize_t s = at, e = at + 1;
        while (s > pos && !is_space(PyUnicode_READ(kind, data, s - 1)))
            s--;
        int found = 0;
        for (Py_ssize_t q = at; q < n; q++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, q);
            if (is_space(c))
                break;
            e = q + 1;
            if (!found && c == mark) {
                if (dot)
                    found = q + 1 < n && is_wd(PyUnicode_READ(kind, data, q + 1));
                else
                    found = q > at; /* a second ":" */
            }
        }
        if (found && (append_int(starts, s) < 0 || append_int(ends, e) < 0))
            goto fail;
        pos = e;
    }
    PyObject *result = PyTuple_Pack(2, starts, ends);
    Py_DECREF(starts);
    Py_DECREF(ends);
    return result;
fail:
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    return NULL;
}

static PyObject *
get_attr_list(PyObject *run, const char *name, Offsets *out)
{
    PyObject *o = PyObject_GetAttrString(run, name);
    if (o == NULL)
        return NULL;
    *out = offsets_of(o);
    if (out->n < 0) {
        Py_DECREF(o);
        return NULL;
    }
    return o;
}

/* dotted(run, starts, ends, want_domain, want_file): Run.dotted over the tokens
 * text[starts[k]:ends[k]]. */
static PyObject *
dotted(PyObject *self, PyObject *args)
{
    PyObject *run, *starts_l, *ends_l;
    int want_domain, want_file;
    if (!PyArg_ParseTuple(args, "OO!O!pp:dotted", &run, &PyList_Type, &starts_l, &PyList_Type,
                          &ends_l, &want_domain, &want_file))
        return NULL;
    if (!ready())
        return NULL;
    Dotted d;
    memset(&d, 0, sizeof(d));
    PyObject *owned[16];
    int n_owned = 0;
    PyObject *result = NULL;
    Offsets tok_s = {-1, NULL}, tok_e = {-1, NULL};
    static const char *const names[] = {"text", "url_hosts", "omap", "rows", "_dotted_kind",
                                        "_versionish", "types", "_norm", "_examples", "_learn"};
    PyObject *attrs[10];
    for (int k = 0; k < 10; k++) {
        attrs[k] = PyObject_GetAttrString(run, names[k]);
        if (attrs[k] == NULL)
            goto out;
        owned[n_owned++] = attrs[k];
    }
    d.text = attrs[0];
    d.url_hosts = attrs[1];
    d.omap = attrs[2];
    d.rows = attrs[3];
    d.kind_of = attrs[4];
    d.versionish = attrs[5];
    d.add.types = attrs[6];
    d.add.norm = attrs[7];
    d.add.examples = attrs[8];
    d.add.rows = attrs[3];
    d.add.learn = attrs[9];
    if (!PyUnicode_Check(d.text) || !PyAnySet_Check(d.url_hosts) || !PyList_Check(d.rows) ||
        !PyAnySet_Check(d.add.types) || !PyDict_Check(d.add.norm) ||
        !PySet_Check(d.add.examples)) {
        PyErr_SetString(PyExc_TypeError, "dotted: unexpected Run attribute types");
        goto out;
    }
    PyObject *o;
    if ((o = get_attr_list(run, "url_starts", &d.url_starts)) == NULL)
        goto out;
    owned[n_owned++] = o;
    if ((o = get_attr_list(run, "url_ends", &d.url_ends)) == NULL)
        goto out;
    owned[n_owned++] = o;
    if ((o = get_attr_list(run, "path_starts", &d.path_starts)) == NULL)
        goto out;
    owned[n_owned++] = o;
    if ((o = get_attr_list(run, "path_ends", &d.path_ends)) == NULL)
        goto out;
    owned[n_owned++] = o;
    if (d.url_ends.n < d.url_starts.n || d.path_ends.n < d.path_starts.n) {
        PyErr_SetString(PyExc_ValueError, "dotted: span lists differ in length");
        goto out;
    }
    tok_s = offsets_of(starts_l);
    if (tok_s.n < 0)
        goto out;
    tok_e = offsets_of(ends_l);
    if (tok_e.n < 0)
        goto out;
    if (tok_s.n != tok_e.n) {
        PyErr_SetString(PyExc_ValueError, "dotted: starts and ends differ in length");
        goto out;
    }
    d.kind = PyUnicode_KIND(d.text);
    d.data = PyUnicode_DATA(d.text);
    d.n_text = PyUnicode_GET_LENGTH(d.text);
    d.want_domain = want_domain;
    d.want_file = want_file;
    d.kinds = PyDict_New();
    if (d.kinds == NULL)
        goto out;
    owned[n_owned++] = d.kinds;
    for (Py_ssize_t k = 0; k < tok_s.n; k++) {
        Py_ssize_t s = tok_s.v[k], e = tok_e.v[k];
        if (s < 0 || e > d.n_text || s > e) {
            PyErr_SetString(PyExc_ValueError, "dotted: token span out of range");
            goto out;
        }
        if (dotted_token(&d, s, e) < 0)
            goto out;
    }
    result = Py_None;
    Py_INCREF(result);
out:
    PyMem_Free(tok_s.v);
    PyMem_Free(tok_e.v);
    PyMem_Free(d.url_starts.v);
    PyMem_Free(d.url_ends.v);
    PyMem_Free(d.path_starts.v);
    PyMem_Free(d.path_ends.v);
    while (n_owned)
        Py_DECREF(owned[--n_owned]);
    return result;
}

/* ---- emit ---------------------------------------------------------------------------- */

typedef struct {
    int64_t start, end;
    Py_ssize_t index;
} Key;

static int
key_cmp(const void *a, const void *b)
{
    const Key *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1; /* the longer first */
    return x->index < y->index ? -1 : (x->index > y->index);
}

/* An int64 buffer of an array("q"), or NULL (error set). */
static int
int64_buffer(PyObject *omap, const char *name, Py_buffer *view)
{
    PyObject *o = PyObject_GetAttrString(omap, name);
    if (o == NULL)
        return -1;
    int r = PyObject_GetBuffer(o, view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS);
    Py_DECREF(o); /* the view holds its own reference */
    if (r < 0)
        return -1;
    if (view->itemsize != 8 || view->format == NULL || strcmp(view->format, "q") != 0) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "OffsetMap tables must be array('q')");
        return -1;
    }
    return 0;
}

/* columns(rows, omap) -> (starts, confs, flags, ostarts, oends, special, order)
 *
 * starts, confs, flags: the rows' columns; ostarts, oends: the original offsets
 * (OffsetMap.spans); special: indices of defanged rows; order: the row indices sorted
 * by original start, then end descending, then index (a stable sort on (start, -end)).
 */
static PyObject *
columns(PyObject *self, PyObject *args)
{
    PyObject *rows, *omap;
    if (!PyArg_ParseTuple(args, "O!O:columns", &PyList_Type, &rows, &omap))
        return NULL;
    Py_buffer bufs[4];
    int n_bufs = 0;
    static const char *const tables[4] = {"rstart", "ostart", "rlen", "olen"};
    PyObject *starts = NULL, *confs = NULL, *flags = NULL, *ostarts = NULL, *oends = NULL,
             *special = NULL, *order = NULL, *result = NULL;
    Key *keys = NULL;
    Py_ssize_t n = PyList_GET_SIZE(rows);
    if (omap != Py_None) {
        for (; n_bufs < 4; n_bufs++) {
            if (int64_buffer(omap, tables[n_bufs], &bufs[n_bufs]) < 0)
                goto out;
        }
    }
    Py_ssize_t m = 0;
    const int64_t *rstart = NULL, *ostart = NULL, *rlen = NULL, *olen = NULL;
    if (n_bufs) {
        m = bufs[0].len / 8;
        for (int k = 1; k < 4; k++) {
            if (bufs[k].len / 8 != m) {
                PyErr_SetString(PyExc_ValueError, "OffsetMap tables differ in length");
                goto out;
            }
        }
        rstart = bufs[0].buf;
        ostart = bufs[1].buf;
        rlen = bufs[2].buf;
        olen = bufs[3].buf;
    }
    starts = PyList_New(n);
    confs = PyList_New(n);
    flags = PyList_New(n);
    ostarts = omap == Py_None ? starts : PyList_New(n);
    oends = PyList_New(n);
    special = PyList_New(0);
    order = PyList_New(n);
    if (ostarts == starts)
        Py_XINCREF(starts);
    keys = PyMem_Malloc(sizeof(Key) * (size_t)(n ? n : 1));
    if (!starts || !confs || !flags || !ostarts || !oends || !special || !order || !keys) {
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 6) {
            PyErr_SetString(PyExc_TypeError, "a row must be a 6-tuple");
            goto out;
        }
        PyObject *so = PyTuple_GET_ITEM(row, 0), *eo = PyTuple_GET_ITEM(row, 1);
        int64_t s = PyLong_AsLongLong(so);
        if (s == -1 && PyErr_Occurred())
            goto out;
        int64_t e = PyLong_AsLongLong(eo);
        if (e == -1 && PyErr_Occurred())
            goto out;
        Py_INCREF(so);
        PyList_SET_ITEM(starts, i, so);
        PyObject *c = PyTuple_GET_ITEM(row, 4), *f = PyTuple_GET_ITEM(row, 5);
        Py_INCREF(c);
        PyList_SET_ITEM(confs, i, c);
        Py_INCREF(f);
        PyList_SET_ITEM(flags, i, f);
        int64_t os = s, oe = e;
        if (n_bufs) {
            Py_ssize_t a = bisect_right64(rstart, m, s);
            if (a > 0) {
                int64_t rend = rstart[a - 1] + rlen[a - 1];
                os = s < rend ? ostart[a - 1] : s + ostart[a - 1] + olen[a - 1] - rend;
            }
            Py_ssize_t b = bisect_right64(rstart, m, e - 1);
            if (b > 0) {
                int64_t rend = rstart[b - 1] + rlen[b - 1];
                int64_t oend = ostart[b - 1] + olen[b - 1];
                oe = e <= rend ? oend : e + oend - rend;
                if (rstart[b - 1] >= s && append_int(special, i) < 0)
                    goto out;
            }
            PyObject *x = PyLong_FromLongLong(os);
            if (x == NULL)
                goto out;
            PyList_SET_ITEM(ostarts, i, x);
            x = PyLong_FromLongLong(oe);
            if (x == NULL)
                goto out;
            PyList_SET_ITEM(oends, i, x);
        }
        else {
            Py_INCREF(eo);
            PyList_SET_ITEM(oends, i, eo);
        }
        keys[i].start = os;
        keys[i].end = oe;
        keys[i].index = i;
    }
    qsort(keys, (size_t)n, sizeof(Key), key_cmp);
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *x = PyLong_FromSsize_t(keys[k].index);
        if (x == NULL)
            goto out;
        PyList_SET_ITEM(order, k, x);
    }
    result = PyTuple_Pack(7, starts, confs, flags, ostarts, oends, special, order);
out:
    while (n_bufs)
        PyBuffer_Release(&bufs[--n_bufs]);
    PyMem_Free(keys);
    Py_XDECREF(starts);
    Py_XDECREF(confs);
    Py_XDECREF(flags);
    Py_XDECREF(ostarts);
    Py_XDECREF(oends);
    Py_XDECREF(special);
    Py_XDECREF(order);
    return result;
}

/* build(rows, order, ostarts, oends, fixes, original, flat, width, flagsets)
 *
 * One Candidate per row, in ``order``: type and value from the row, span
 * original[ostart:oend], the context snippet from ``flat`` (``width`` characters
 * centred on the span, or its first ``width``), confidence and flags from the row
 * (flags as ``flagsets[flags]``) unless ``fixes`` has (confidence, flags) for it.
 */
static PyObject *
build(PyObject *self, PyObject *args)
{
    PyObject *rows, *order, *ostarts, *oends, *fixes, *original, *flat, *flagsets;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!UUnO:build", &PyList_Type, &rows, &PyList_Type,
                          &order, &PyList_Type, &ostarts, &PyList_Type, &oends, &PyDict_Type,
                          &fixes, &original, &flat, &width, &flagsets))
        return NULL;
    if (!ready())
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(rows);
    if (PyList_GET_SIZE(order) != n || PyList_GET_SIZE(ostarts) != n ||
        PyList_GET_SIZE(oends) != n) {
        PyErr_SetString(PyExc_ValueError, "build: columns differ in length");
        return NULL;
    }
    int use_fixes = PyDict_GET_SIZE(fixes) > 0;
    int flagsets_dict = PyDict_Check(flagsets);
    PyObject *out = PyList_New(n);
    if (out == NULL)
        return NULL;
    PyTypeObject *tp = CANDIDATE;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *io = PyList_GET_ITEM(order, k);
        Py_ssize_t i = PyLong_AsSsize_t(io);
        if (i == -1 && PyErr_Occurred())
            goto fail;
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_IndexError, "build: row index out of range");
            goto fail;
        }
        PyObject *row = PyList_GET_ITEM(rows, i);
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != 6) {
            PyErr_SetString(PyExc_TypeError, "a row must be a 6-tuple");
            goto fail;
        }
        PyObject *so = PyList_GET_ITEM(ostarts, i), *eo = PyList_GET_ITEM(oends, i);
        Py_ssize_t s = PyLong_AsSsize_t(so);
        if (s == -1 && PyErr_Occurred())
            goto fail;
        Py_ssize_t e = PyLong_AsSsize_t(eo);
        if (e == -1 && PyErr_Occurred())
            goto fail;
        if (s < 0 || e < 0) {
            PyErr_SetString(PyExc_ValueError, "build: negative offset");
            goto fail;
        }
        PyObject *conf, *fset;
        PyObject *fix = NULL;
        if (use_fixes) {
            fix = PyDict_GetItemWithError(fixes, io);
            if (fix == NULL && PyErr_Occurred())
                goto fail;
        }
        if (fix != NULL) {
            if (!PyTuple_Check(fix) || PyTuple_GET_SIZE(fix) != 2) {
                PyErr_SetString(PyExc_TypeError, "build: a fix must be a 2-tuple");
                goto fail;
            }
            conf = PyTuple_GET_ITEM(fix, 0);
            fset = PyTuple_GET_ITEM(fix, 1);
            Py_INCREF(conf);
            Py_INCREF(fset);
        }
        else {
            conf = PyTuple_GET_ITEM(row, 4);
            Py_INCREF(conf);
            PyObject *fl = PyTuple_GET_ITEM(row, 5);
            fset = flagsets_dict ? PyDict_GetItemWithError(flagsets, fl) : NULL;
            if (fset != NULL) {
                Py_INCREF(fset);
            }
            else {
                if (PyErr_Occurred()) {
                    Py_DECREF(conf);
                    goto fail;
                }
                fset = PyObject_GetItem(flagsets, fl); /* __missing__ builds it */
                if (fset == NULL) {
                    Py_DECREF(conf);
                    goto fail;
                }
            }
        }
        /* the snippet: flat[s - pad if s > pad else 0 : e + pad], or flat[s : s + width] */
        Py_ssize_t room = width - e + s; /* Python's >> floors: only pad > 0 matters */
        Py_ssize_t pad = room > 0 ? room >> 1 : 0;
        PyObject *context;
        if (pad > 0)
            context = PyUnicode_Substring(flat, s > pad ? s - pad : 0,
                                          e > PY_SSIZE_T_MAX - pad ? PY_SSIZE_T_MAX : e + pad);
        else
            context =
                PyUnicode_Substring(flat, s, s > PY_SSIZE_T_MAX - width ? PY_SSIZE_T_MAX : s + width);
        PyObject *span = context ? PyUnicode_Substring(original, s, e) : NULL;
        PyObject *obj = span ? tp->tp_alloc(tp, 0) : NULL;
        if (obj == NULL) {
            Py_XDECREF(context);
            Py_XDECREF(span);
            Py_DECREF(conf);
            Py_DECREF(fset);
            goto fail;
        }
        PyObject *fields[N_FIELDS] = {PyTuple_GET_ITEM(row, 2), PyTuple_GET_ITEM(row, 3), span, so,
                                      eo, conf, context, fset, Py_None};
        /* span, conf, context and fset are new references, handed over; the rest are
           borrowed and need one of their own */
        Py_INCREF(fields[0]);
        Py_INCREF(fields[1]);
        Py_INCREF(so);
        Py_INCREF(eo);
        Py_INCREF(Py_None);
        for (int f = 0; f < N_FIELDS; f++)
            *(PyObject **)((char *)obj + FIELD_OFFSETS[f]) = fields[f];
        PyList_SET_ITEM(out, k, obj);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

/* ---- hint words ------------------------------------------------------------------ */

/* hinted(text, starts, order, words, lookback, min_window) -> dict or None
 *
 * _extract_emit._hinted_rows: {row: start of its look-back window} for the rows with
 * a hint word (lower-case ASCII) in that window. None when a look-back window holds
 * a character whose lower case is ASCII or of another length (KELVIN SIGN, "İ"): the
 * Python code then decides, with its own handling of str.lower.
 */
static PyObject *
hinted(PyObject *self, PyObject *args)
{
    PyObject *text, *starts, *order, *words;
    Py_ssize_t lookback, min_window;
    if (!PyArg_ParseTuple(args, "UO!O!O!nn:hinted", &text, &PyList_Type, &starts, &PyList_Type,
                          &order, &PyTuple_Type, &words, &lookback, &min_window))
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(starts);
    if (PyList_GET_SIZE(order) != n) {
        PyErr_SetString(PyExc_ValueError, "hinted: starts and order differ in length");
        return NULL;
    }
    Py_ssize_t n_words = PyTuple_GET_SIZE(words);
    for (Py_ssize_t w = 0; w < n_words; w++) {
        PyObject *word = PyTuple_GET_ITEM(words, w);
        if (!PyUnicode_Check(word) || !PyUnicode_IS_ASCII(word) ||
            PyUnicode_GET_LENGTH(word) == 0) {
            PyErr_SetString(PyExc_ValueError, "hinted: words must be non-empty ASCII str");
            return NULL;
        }
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n_text = PyUnicode_GET_LENGTH(text);
    PyObject *out = NULL;
    int64_t *ss = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    int64_t *los = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    Py_ssize_t *ord = PyMem_Malloc(sizeof(Py_ssize_t) * (size_t)(n ? n : 1));
    Key *sk = NULL;
    if (!ss || !los || !ord) {
        PyErr_NoMemory();
        goto done;
    }
    int sorted = 1;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_ssize_t i = PyLong_AsSsize_t(PyList_GET_ITEM(order, k));
        if (i == -1 && PyErr_Occurred())
            goto done;
        if (i < 0 || i >= n) {
            PyErr_SetString(PyExc_IndexError, "hinted: row index out of range");
            goto done;
        }
        ord[k] = i;
        ss[k] = PyLong_AsLongLong(PyList_GET_ITEM(starts, i));
        if (ss[k] == -1 && PyErr_Occurred())
            goto done;
        if (ss[k] < 0 || ss[k] > n_text) {
            PyErr_SetString(PyExc_ValueError, "hinted: start out of range");
            goto done;
        }
        if (k && ss[k - 1] > ss[k])
            sorted = 0;
    }
    if (!sorted) { /* rows inside one replacement: a stable sort on the start (emit's
                      Key with equal ends: start, then row index) */
        sk = PyMem_Malloc(sizeof(Key) * (size_t)n);
        if (sk == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            sk[i].start = PyLong_AsLongLong(PyList_GET_ITEM(starts, i));
            if (sk[i].start == -1 && PyErr_Occurred())
                goto done;
            if (sk[i].start < 0 || sk[i].start > n_text) {
                PyErr_SetString(PyExc_ValueError, "hinted: start out of range");
                goto done;
            }
            sk[i].end = 0;
            sk[i].index = i;
        }
        qsort(sk, (size_t)n, sizeof(Key), key_cmp);
        for (Py_ssize_t k = 0; k < n; k++) {
            ord[k] = sk[k].index;
            ss[k] = sk[k].start;
        }
    }
    /* each row's window: its line, at most lookback characters back */
    for (Py_ssize_t k = 0; k < n; k++) {
        int64_t s = ss[k], lo = s > lookback ? s - lookback : 0, at = s - 1;
        while (at >= lo && PyUnicode_READ(kind, data, at) != '\n')
            at--;
        los[k] = at >= lo ? at + 1 : lo;
    }
    /* non-ASCII characters whose lower case is ASCII (or not one character) */
    if (kind != PyUnicode_1BYTE_KIND || !PyUnicode_IS_ASCII(text)) {
        Py_ssize_t a = 0;
        while (a < n) {
            Py_ssize_t b = a;
            while (b + 1 < n && los[b + 1] <= ss[b])
                b++;
            for (int64_t p = los[a]; p < ss[b]; p++) {
                Py_UCS4 c = PyUnicode_READ(kind, data, p);
                if (c >= 128 && (c == 0x130 || Py_UNICODE_TOLOWER(c) < 128)) {
                    out = Py_None;
                    Py_INCREF(out);
                    goto done;
                }
            }
            a = b + 1;
        }
    }
    out = PyDict_New();
    if (out == NULL)
        goto done;
    /* the union of the windows: a window that starts after the previous row opens one */
    Py_ssize_t a = 0;
    while (a < n) {
        Py_ssize_t b = a;
        while (b + 1 < n && los[b + 1] <= ss[b])
            b++;
        int64_t lo = los[a], hi = ss[b];
        a = b + 1;
        if (hi - lo < min_window)
            continue;
        for (Py_ssize_t w = 0; w < n_words; w++) {
            PyObject *word = PyTuple_GET_ITEM(words, w);
            const Py_UCS1 *wd = PyUnicode_1BYTE_DATA(word);
            Py_ssize_t len = PyUnicode_GET_LENGTH(word);
            for (int64_t p = lo; p + len <= hi; p++) {
                Py_ssize_t j = 0;
                for (; j < len; j++) {
                    Py_UCS4 c = PyUnicode_READ(kind, data, p + j);
                    if (c >= 'A' && c <= 'Z')
                        c += 'a' - 'A';
                    if (c != wd[j])
                        break;
                }
                if (j < len)
                    continue;
                /* rows whose window [line start or lookback back, row start) holds it */
                int64_t w_lo = p, w_hi = p + len;
                /* rows from bisect_left(ss, w_hi), i.e. bisect_right(ss, w_hi - 1) */
                for (Py_ssize_t k = bisect_right64(ss, n, w_hi - 1); k < n && ss[k] <= w_lo + lookback;
                     k++) {
                    if (los[k] <= w_lo) {
                        PyObject *key = PyLong_FromSsize_t(ord[k]);
                        PyObject *val = key ? PyLong_FromLongLong(los[k]) : NULL;
                        int r = val ? PyDict_SetItem(out, key, val) : -1;
                        Py_XDECREF(key);
                        Py_XDECREF(val);
                        if (r < 0) {
                            Py_CLEAR(out);
                            goto done;
                        }
                    }
                }
            }
        }
    }
done:
    PyMem_Free(ss);
    PyMem_Free(los);
    PyMem_Free(ord);
    PyMem_Free(sk);
    return out;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS,
     "configure(cidr, ipv4, domain, filename, url_host, email_domain, Candidate)"},
    {"dotted", dotted, METH_VARARGS, "dotted(run, starts, ends, want_domain, want_file)"},
    {"columns", columns, METH_VARARGS, "columns(rows, omap)"},
    {"tokens", tokens, METH_VARARGS, "tokens(text, kind) -> (starts, ends)"},
    {"hinted", hinted, METH_VARARGS,
     "hinted(text, starts, order, words, lookback, min_window) -> dict or None"},
    {"build", build, METH_VARARGS,
     "build(rows, order, ostarts, oends, fixes, original, flat, width, flagsets)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_extract_c",
    "The extractor's per-occurrence hot loops in C (see spoorhound.core._extract_accel).", -1,
    methods,
};

PyMODINIT_FUNC
PyInit__extract_c(void)
{
    PyObject *mod = PyModule_Create(&module);
    if (mod == NULL)
        return NULL;
    for (int c = 0; c < 128; c++)
        ASCII_WORD[c] = c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
                        (c >= 'a' && c <= 'z');
    EMPTY = PyTuple_New(0);
    S_EXAMPLE = PyUnicode_InternFromString("example");
    if (EMPTY == NULL || S_EXAMPLE == NULL ||
        PyModule_AddStringConstant(mod, "SOURCE_HASH", SOURCE_HASH) < 0) {
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
