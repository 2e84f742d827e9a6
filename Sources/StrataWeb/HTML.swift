import Foundation

/// Text for HTML: every piece of data goes through `esc` (or an `HTMLBuilder` call that escapes), so a name, a path, a
/// commit message or a cell can never become markup. Fixed markup is written with `raw`.
public struct HTMLBuilder: Sendable {
    /// The markup so far.
    public private(set) var out = ""

    /// An empty builder (with room for a page).
    public init() { out.reserveCapacity(16 << 10) }

    /// `&`, `<`, `>`, `"` and `'` replaced by entities: safe in text and in quoted attribute values.
    public static func esc(_ s: String) -> String {
        var needs = false
        for b in s.utf8 where b == 38 || b == 60 || b == 62 || b == 34 || b == 39 {
            needs = true
            break
        }
        if !needs { return s }
        var r = ""
        r.reserveCapacity(s.utf8.count + 16)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": r += "&amp;"
            case "<": r += "&lt;"
            case ">": r += "&gt;"
            case "\"": r += "&quot;"
            case "'": r += "&#39;"
            default: r.unicodeScalars.append(ch)
            }
        }
        return r
    }

    /// Appends fixed markup (never data).
    public mutating func raw(_ s: String) { out += s }
    /// Appends escaped text.
    public mutating func text(_ s: String) { out += HTMLBuilder.esc(s) }
    /// `<tag attrs>text</tag>`, with the text escaped; attribute values are escaped too.
    public mutating func el(_ tag: String, _ text: String, _ attrs: [(String, String)] = []) {
        open(tag, attrs)
        self.text(text)
        close(tag)
    }
    /// `<tag attrs>`.
    public mutating func open(_ tag: String, _ attrs: [(String, String)] = []) {
        out += "<" + tag
        for (k, v) in attrs { out += " " + k + "=\"" + HTMLBuilder.esc(v) + "\"" }
        out += ">"
    }
    /// `</tag>`.
    public mutating func close(_ tag: String) { out += "</" + tag + ">" }
    /// A link when `href` is non-nil, else the text alone (a static site links only to the pages it wrote).
    public mutating func link(_ text: String, _ href: String?, attrs: [(String, String)] = []) {
        if let href { el("a", text, [("href", href)] + attrs) } else { self.text(text) }
    }
    /// A hash shown short, with the whole value in `title` and a `data-copy` attribute for the copy button.
    public mutating func hash(_ hex: String, _ href: String? = nil) {
        let short = String(hex.prefix(12))
        if let href {
            el("a", short, [("href", href), ("class", "hash"), ("title", hex), ("data-copy", hex)])
        } else {
            el("code", short, [("class", "hash"), ("title", hex), ("data-copy", hex)])
        }
    }
}

/// Sizes as `ls -h` prints them.
func humanSize(_ n: UInt64) -> String {
    if n < 1024 { return "\(n) B" }
    let units = ["KiB", "MiB", "GiB", "TiB"]
    var v = Double(n) / 1024
    var i = 0
    while v >= 1024 && i < units.count - 1 {
        v /= 1024
        i += 1
    }
    return String(format: v < 10 ? "%.1f %@" : "%.0f %@", v, units[i])
}

/// The broken-down UTC time of epoch seconds.
func utcParts(_ seconds: Int64) -> tm {
    var t = time_t(seconds)
    var parts = tm()
    gmtime_r(&t, &parts)
    return parts
}

/// A time as `2026-12-01 04:46 UTC`.
func utcTime(_ seconds: Int64) -> String {
    let p = utcParts(seconds)
    return String(format: "%04d-%02d-%02d %02d:%02d UTC", Int(p.tm_year) + 1900, Int(p.tm_mon) + 1, Int(p.tm_mday), Int(p.tm_hour), Int(p.tm_min))
}

/// A time as ISO 8601 (`2026-12-01T04:46:21Z`), for `<time datetime>`.
func isoTime(_ seconds: Int64) -> String {
    let p = utcParts(seconds)
    return String(
        format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(p.tm_year) + 1900, Int(p.tm_mon) + 1, Int(p.tm_mday), Int(p.tm_hour), Int(p.tm_min), Int(p.tm_sec))
}

/// The style sheet every page links (served at `static/style.css`, written beside a static site's pages). Status is
/// never colour alone: every coloured mark carries a word or a symbol too.
public let webStyleSheet = """
    :root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#fff;--accent:#0550ae;--add:#dafbe1;--del:#ffebe9;--mod:#fff8c5;--cell:#ffd8a8}
    *{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0}
    header.top{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;border-bottom:1px solid var(--line);flex-wrap:wrap}
    header.top .brand{font-weight:700;color:var(--fg);text-decoration:none}header.top nav ul{display:flex;gap:1rem;list-style:none;margin:0;padding:0}
    header.top .who{margin-left:auto;color:var(--muted)}main{padding:1rem 1.2rem;max-width:80rem}
    a{color:var(--accent)}a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #0969da;outline-offset:2px}
    .skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.3rem;z-index:2}
    table{border-collapse:collapse;margin:.5rem 0;font-size:14px}th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
    th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}code,.hash{font-family:ui-monospace,monospace;font-size:13px}
    tr.added{background:var(--add)}tr.removed{background:var(--del)}tr.modified{background:var(--mod)}
    td.changed{background:var(--cell);font-weight:600}td.changed del{color:#82071e}td.changed ins{text-decoration:none}
    .badge{display:inline-block;border:1px solid currentColor;border-radius:.6rem;padding:0 .45rem;font-size:12px;font-weight:600}
    .badge.ok{color:#116329}.badge.warn{color:#7d4e00}.badge.bad{color:#a40e26}.muted{color:var(--muted)}
    .timeline{list-style:none;padding:0;border-left:3px solid var(--line);margin-left:.5rem}.timeline li{position:relative;padding:.3rem 0 .6rem 1rem}
    .timeline li::before{content:"";position:absolute;left:-.55rem;top:.7rem;width:.7rem;height:.7rem;border-radius:50%;background:var(--accent)}
    .pager{display:flex;gap:1rem;margin:.6rem 0}pre.preview{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:40rem}
    svg.graph{max-width:100%;height:auto;border:1px solid var(--line);background:#fff}.scroll{overflow:auto}form.inline{display:inline-flex;gap:.4rem;align-items:center;margin:.3rem 0}
    .error{border:2px solid #a40e26;padding:.6rem;background:var(--del)}dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.meta dt{font-weight:600}
    """

/// The progressive script: copy buttons on hashes, and `j`/`k` to move through the rows of a listing. Every page
/// works without it.
public let webScript = """
    document.addEventListener('click',e=>{const t=e.target.closest('[data-copy-button]');if(!t)return;const v=t.getAttribute('data-copy-button');
    if(navigator.clipboard){navigator.clipboard.writeText(v);t.textContent='copied'}});
    document.querySelectorAll('[data-copy]').forEach(el=>{const b=document.createElement('button');b.type='button';b.textContent='copy';
    b.setAttribute('data-copy-button',el.getAttribute('data-copy'));b.setAttribute('aria-label','copy '+el.getAttribute('data-copy'));b.className='copy';
    b.style.fontSize='11px';b.style.marginLeft='.3rem';el.after(b)});
    (function(){const rows=[...document.querySelectorAll('table.nav tbody tr')];let i=-1;document.addEventListener('keydown',e=>{
    if(e.target.matches('input,textarea,select')||!rows.length)return;if(e.key!=='j'&&e.key!=='k'&&e.key!=='Enter')return;
    if(e.key==='Enter'){const a=rows[i]&&rows[i].querySelector('a');if(a)a.click();return}
    i=Math.max(0,Math.min(rows.length-1,i+(e.key==='j'?1:-1)));rows.forEach(r=>r.removeAttribute('aria-current'));rows[i].setAttribute('aria-current','true');
    rows[i].style.outline='2px solid #0969da';rows.forEach((r,k)=>{if(k!==i)r.style.outline=''});const a=rows[i].querySelector('a');if(a)a.focus()})})();
    """
