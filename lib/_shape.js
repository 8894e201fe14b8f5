// Generated from src/_shape.ts by scripts/build_js.ts (sha256 1e6383e5cd089753a1385fff64f16cc6b13bce3b9ed8698570bf4d8a640f882e): do not edit; `deno task build:js` writes it.
export var issuesText = (function (issues, root = "(root)") {
    return issues.map(((issue) => {
        const path = issue.path.length === 0 ? root : issue.path.map(String).join(".");
        const message = /expected number, received number$/.test(issue.message)
            ? "expected a finite number"
            : issue.message;
        return `${path}: ${message}`;
    })).join("; ");
});
var typeName = (function (value) {
    if (value === null)
        return "null";
    if (Array.isArray(value))
        return "array";
    if (typeof value === "number" && Number.isNaN(value))
        return "NaN";
    return typeof value;
});
var isPlainObject = (function (value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
});
var fresh = (function (value) {
    return typeof value === "object" && value !== null ? JSON.parse(JSON.stringify(value)) : value;
});
var define = (function (target, key, value) {
    Object.defineProperty(target, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
    });
});
export var string = (function () {
    return new StringShape();
});
export var number = (function () {
    return new NumberShape();
});
export var boolean = (function () {
    return new BooleanShape();
});
export var unknown = (function () {
    return new UnknownShape();
});
export var literal = (function (value) {
    return new ChoiceShape([value], true);
});
export var enumOf = (function (values) {
    return new ChoiceShape(values, false);
});
export var array = (function (item) {
    return new ArrayShape(item);
});
export var tuple = (function (items) {
    return new TupleShape(items);
});
export var record = (function (first, second) {
    return second === undefined
        ? new RecordShape(first)
        : new RecordShape(second, first);
});
export var object = (function (fields) {
    return new ObjectShape(fields);
});
export class ShapeError extends Error {
    issues;
    constructor(issues) {
        super(issuesText(issues));
        this.name = "ShapeError";
        this.issues = issues;
    }
}
;
const FAIL = Symbol("fail");
;
;
;
;
export class Shape {
    parse(value) {
        const result = this.safeParse(value);
        if (!result.success)
            throw result.error;
        return result.data;
    }
    safeParse(value) {
        const issues = [];
        const out = this.run(value, [], issues);
        if (out === FAIL || issues.length > 0) {
            return { success: false, error: new ShapeError(issues) };
        }
        return { success: true, data: out };
    }
    optional() {
        return new OptionalShape(this);
    }
    default(value) {
        return new DefaultShape(this, value);
    }
}
export class OptionalShape extends Shape {
    isOptional = true;
    inner;
    constructor(inner) {
        super();
        this.inner = inner;
    }
    run(value, path, issues) {
        return value === undefined ? undefined : this.inner.run(value, path, issues);
    }
}
export class DefaultShape extends Shape {
    inner;
    value;
    constructor(inner, value) {
        super();
        this.inner = inner;
        this.value = value;
    }
    run(value, path, issues) {
        return value === undefined ? fresh(this.value) : this.inner.run(value, path, issues);
    }
}
export class StringShape extends Shape {
    checks;
    constructor(checks = { patterns: [] }) {
        super();
        this.checks = checks;
    }
    regex(pattern, message) {
        return new StringShape({
            ...this.checks,
            patterns: [...this.checks.patterns, { pattern, message }],
        });
    }
    min(length) {
        return new StringShape({ ...this.checks, min: length });
    }
    max(length) {
        return new StringShape({ ...this.checks, max: length });
    }
    run(value, path, issues) {
        if (typeof value !== "string") {
            issues.push({ path, message: `Invalid input: expected string, received ${typeName(value)}` });
            return FAIL;
        }
        let ok = true;
        if (this.checks.min !== undefined && value.length < this.checks.min) {
            issues.push({
                path,
                message: `Too small: expected string to have >=${this.checks.min} characters`,
            });
            ok = false;
        }
        if (this.checks.max !== undefined && value.length > this.checks.max) {
            issues.push({
                path,
                message: `Too big: expected string to have <=${this.checks.max} characters`,
            });
            ok = false;
        }
        for (const { pattern, message } of this.checks.patterns) {
            pattern.lastIndex = 0;
            if (!pattern.test(value)) {
                issues.push({ path, message: message ?? `Invalid string: must match pattern ${pattern}` });
                ok = false;
            }
        }
        return ok ? value : FAIL;
    }
}
export class NumberShape extends Shape {
    checks;
    constructor(checks = {}) {
        super();
        this.checks = checks;
    }
    int() {
        return new NumberShape({ ...this.checks, int: true });
    }
    positive() {
        return new NumberShape({ ...this.checks, positive: true });
    }
    run(value, path, issues) {
        if (typeof value !== "number" || !Number.isFinite(value)) {
            issues.push({ path, message: `Invalid input: expected number, received ${typeName(value)}` });
            return FAIL;
        }
        if (this.checks.int && !Number.isSafeInteger(value)) {
            issues.push({ path, message: "Invalid input: expected int, received number" });
            return FAIL;
        }
        if (this.checks.positive && !(value > 0)) {
            issues.push({ path, message: "Too small: expected number to be >0" });
            return FAIL;
        }
        return value;
    }
}
export class BooleanShape extends Shape {
    run(value, path, issues) {
        if (typeof value === "boolean")
            return value;
        issues.push({ path, message: `Invalid input: expected boolean, received ${typeName(value)}` });
        return FAIL;
    }
}
export class UnknownShape extends Shape {
    run(value) {
        return value;
    }
}
export class ChoiceShape extends Shape {
    values;
    literal;
    constructor(values, literal) {
        super();
        this.values = values;
        this.literal = literal;
    }
    run(value, path, issues) {
        if (this.values.includes(value))
            return value;
        const shown = this.values.map(((v) => JSON.stringify(v)));
        issues.push({
            path,
            message: this.literal
                ? `Invalid input: expected ${shown.join(" | ")}`
                : `Invalid option: expected one of ${shown.join("|")}`,
        });
        return FAIL;
    }
}
export class ArrayShape extends Shape {
    item;
    constructor(item) {
        super();
        this.item = item;
    }
    run(value, path, issues) {
        if (!Array.isArray(value)) {
            issues.push({ path, message: `Invalid input: expected array, received ${typeName(value)}` });
            return FAIL;
        }
        const out = [];
        let ok = true;
        for (let i = 0; i < value.length; i++) {
            const item = this.item.run(value[i], [...path, i], issues);
            if (item === FAIL)
                ok = false;
            else
                out.push(item);
        }
        return ok ? out : FAIL;
    }
}
export class TupleShape extends Shape {
    items;
    constructor(items) {
        super();
        this.items = items;
    }
    run(value, path, issues) {
        if (!Array.isArray(value)) {
            issues.push({ path, message: `Invalid input: expected tuple, received ${typeName(value)}` });
            return FAIL;
        }
        if (value.length !== this.items.length) {
            const more = value.length > this.items.length;
            issues.push({
                path,
                message: `Too ${more ? "big" : "small"}: expected array to have ${more ? "<=" : ">="}${this.items.length} items`,
            });
            return FAIL;
        }
        const out = [];
        let ok = true;
        for (const [i, shape] of this.items.entries()) {
            const item = shape.run(value[i], [...path, i], issues);
            if (item === FAIL)
                ok = false;
            else
                out.push(item);
        }
        return ok ? out : FAIL;
    }
}
export class RecordShape extends Shape {
    key;
    value;
    constructor(value, key) {
        super();
        this.value = value;
        this.key = key;
    }
    run(value, path, issues) {
        if (!isPlainObject(value)) {
            issues.push({ path, message: `Invalid input: expected record, received ${typeName(value)}` });
            return FAIL;
        }
        const out = {};
        let ok = true;
        for (const key of Object.keys(value)) {
            if (this.key) {
                const keyIssues = [];
                if (this.key.run(key, [...path, key], keyIssues) === FAIL) {
                    issues.push({
                        path: [...path, key],
                        message: `Invalid key in record: ${keyIssues.map(((i) => i.message)).join("; ")}`,
                    });
                    ok = false;
                    continue;
                }
            }
            const item = this.value.run(value[key], [...path, key], issues);
            if (item === FAIL)
                ok = false;
            else
                define(out, key, item);
        }
        return ok ? out : FAIL;
    }
}
export class ObjectShape extends Shape {
    shape;
    isStrict;
    constructor(shape, strict = false) {
        super();
        this.shape = shape;
        this.isStrict = strict;
    }
    strict() {
        return new ObjectShape(this.shape, true);
    }
    run(value, path, issues) {
        if (!isPlainObject(value)) {
            issues.push({ path, message: `Invalid input: expected object, received ${typeName(value)}` });
            return FAIL;
        }
        const out = {};
        let ok = true;
        for (const [key, shape] of Object.entries(this.shape)) {
            const present = Object.hasOwn(value, key);
            const item = shape.run(present ? value[key] : undefined, [...path, key], issues);
            if (item === FAIL)
                ok = false;
            else if (item !== undefined || present)
                define(out, key, item);
        }
        if (this.isStrict) {
            const extra = Object.keys(value).filter(((key) => !Object.hasOwn(this.shape, key)));
            if (extra.length > 0) {
                issues.push({
                    path,
                    message: `Unrecognized key${extra.length > 1 ? "s" : ""}: ${extra.map(((k) => JSON.stringify(k))).join(", ")}`,
                });
                ok = false;
            }
        }
        return ok ? out : FAIL;
    }
}
;
;
;
;
;
;
;
;
;
;
