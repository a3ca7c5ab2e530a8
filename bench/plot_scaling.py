#!/usr/bin/env python3
"""Speed-up and efficiency plot (SVG) of a scaling CSV from bench/device_scaling.sh or slurm/pwas_scaling.sbatch.
Usage: plot_scaling.py SCALING.csv OUT.svg [TITLE]   (no dependencies beyond the standard library)"""
import csv
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "pwas study PWAS scaling"
    rows = list(csv.DictReader(open(src)))
    strong = sorted((int(r["ranks"]), float(r["wall_s"])) for r in rows if r["kind"] == "strong")
    weak = sorted((int(r["ranks"]), float(r["wall_s"])) for r in rows if r["kind"] == "weak")
    r1 = dict(strong)[1]
    w1 = dict(weak).get(1)
    max_r = max(r for r, _ in strong + weak)
    W, H, L, R, T, B = 720, 400, 60, 60, 40, 50
    pw, ph = (W - L - R - 40) / 2, H - T - B

    def panel(x0, label_y, pts, y_max, fmt):
        s = [f'<rect x="{x0}" y="{T}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>']
        px = lambda r: x0 + (r - 1) / (max_r - 1) * pw
        py = lambda v: T + ph - v / y_max * ph
        for r in [1, 2, 4, 8, 16, 32, 64]:
            if r <= max_r:
                s.append(f'<text x="{px(r):.1f}" y="{T + ph + 16}" text-anchor="middle" font-size="11">{r}</text>')
        for k in range(5):
            v = y_max * k / 4
            s.append(f'<text x="{x0 - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{fmt(v)}</text>')
        s.append(f'<text x="{x0 + pw / 2}" y="{H - 12}" text-anchor="middle" font-size="12">ranks (1 thread each)</text>')
        s.append(f'<text transform="translate({x0 - 42},{T + ph / 2}) rotate(-90)" text-anchor="middle" '
                 f'font-size="12">{label_y}</text>')
        for colour, series in pts:
            s.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>'
                     % (colour, " ".join(f"{px(r):.1f},{py(v):.1f}" for r, v in series)))
            s += [f'<circle cx="{px(r):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}"/>' for r, v in series]
        return s

    speedup = [(r, r1 / t) for r, t in strong]
    eff = [(r, 100 * r1 / t / r) for r, t in strong]
    weak_eff = [(r, 100 * w1 / t) for r, t in weak] if w1 else []
    out_s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="Helvetica,Arial">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>']
    out_s += panel(L, "speed-up", [("#888", [(1, 1), (max_r, max_r)]), ("#1f77b4", speedup)], max_r, lambda v: f"{v:.0f}")
    out_s += panel(L + pw + 80, "efficiency (%)", [("#1f77b4", eff), ("#d62728", weak_eff)], 100, lambda v: f"{v:.0f}")
    out_s.append(f'<text x="{L + pw + 90}" y="{T + ph - 30}" fill="#1f77b4" font-size="12">strong (fixed cohort)</text>')
    out_s.append(f'<text x="{L + pw + 90}" y="{T + ph - 14}" fill="#d62728" font-size="12">weak (proteins x ranks)</text>')
    out_s.append("</svg>")
    open(out, "w").write("\n".join(out_s) + "\n")


if __name__ == "__main__":
    main()
