//! Where the topology's boxes, arrows and arrow labels go: a layered
//! (Sugiyama-style) layout of a directed graph whose nodes are rectangles
//! of known size.
//!
//! * Cycles are broken by reversing the back edges of a depth-first search
//!   (entries first); a reversed edge is laid out downwards and drawn
//!   upwards.
//! * Layers: the longest path from the sources (entries on layer 0, any
//!   other node at least on layer 1); an entry then moves down to just
//!   above the first of its targets.
//! * An edge spanning several layers gets a narrow placeholder on each
//!   layer it crosses, so it is routed through a reserved gap, never
//!   through a box.
//! * Order within a layer: barycentre sweeps down and up, keeping the
//!   order with the fewest crossings.
//! * x: each layer's centres as close as possible to their neighbours'
//!   mean while keeping the gaps (an isotonic regression per layer, solved
//!   exactly by pool-adjacent-violators), a few passes down and up.
//! * Boxes of a layer share its height, so straight segments between two
//!   layers stay in the gap between them.
//! * Labels beside the first segment of their edge, at the first place
//!   that covers no box, no other label and no other segment.
//!
//! A pure function of sizes and edges (no drawing, no fonts): `topology`
//! measures the text and draws what this returns.
//!
//! Past 600 lines: the passes above share one set of layer arrays and are
//! tested as one layout; about a third of the file is those tests.

type Point = (f64, f64);

/// An axis-aligned rectangle in pixels, y down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }

    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }

    /// Whether the interiors of `self` and `o` share a point.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    fn inflate(&self, d: f64) -> Rect {
        Rect {
            x0: self.x0 - d,
            y0: self.y0 - d,
            x1: self.x1 + d,
            y1: self.y1 + d,
        }
    }

    fn shift(&mut self, dx: f64, dy: f64) {
        self.x0 += dx;
        self.x1 += dx;
        self.y0 += dy;
        self.y1 += dy;
    }

    /// Whether the segment `p`–`q` passes through the interior of the
    /// rectangle (Liang–Barsky clipping; touching an edge does not count).
    pub fn hit_by(&self, p: (f64, f64), q: (f64, f64)) -> bool {
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        for (num, den) in [
            (p.0 - self.x0, -dx),
            (self.x1 - p.0, dx),
            (p.1 - self.y0, -dy),
            (self.y1 - p.1, dy),
        ] {
            if den == 0.0 {
                if num <= 0.0 {
                    return false;
                }
            } else {
                let t = num / den;
                if den < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        t1 - t0 > 1e-9
    }
}

/// What the layout is given.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    /// Width and height of each node.
    pub sizes: Vec<(f64, f64)>,
    /// Entries: drawn above their targets.
    pub entry: Vec<bool>,
    /// Directed edges between node indices.
    pub edges: Vec<(usize, usize)>,
    /// Width and height of each edge's label; `(0, 0)` for none.
    pub labels: Vec<(f64, f64)>,
}

/// Where everything goes, in pixels from (0, 0).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placement {
    pub boxes: Vec<Rect>,
    /// Per edge, the polyline from its source to its target (the last
    /// point is the arrow's tip); empty for an edge to a missing node.
    pub routes: Vec<Vec<(f64, f64)>>,
    pub labels: Vec<Option<Rect>>,
    pub width: f64,
    pub height: f64,
}

/// Horizontal gap between two boxes of a layer.
pub const GAP_X: f64 = 44.0;
/// Gap next to a placeholder for a long edge.
const GAP_DUMMY: f64 = 18.0;
const DUMMY_W: f64 = 8.0;
/// Vertical gap between layers: room for the arrows and their labels.
pub const GAP_Y: f64 = 66.0;

/// Lays out `g` (see the module doc).
pub fn place(g: &Graph) -> Placement {
    let n = g.sizes.len();
    let valid = |&(a, b): &(usize, usize)| a < n && b < n;
    // 1. Break cycles: reverse the back edges of a depth-first search.
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (k, e) in g.edges.iter().enumerate() {
        if valid(e) && e.0 != e.1 {
            out[e.0].push(k);
        }
    }
    let mut reversed = vec![false; g.edges.len()];
    let mut state = vec![0u8; n];
    let starts = (0..n)
        .filter(|&v| g.entry.get(v).copied().unwrap_or(false))
        .chain(0..n);
    for s in starts {
        if state[s] != 0 {
            continue;
        }
        state[s] = 1;
        let mut stack = vec![(s, 0usize)];
        while let Some(&(v, i)) = stack.last() {
            if let Some(&k) = out[v].get(i) {
                stack.last_mut().expect("non-empty").1 += 1;
                let w = g.edges[k].1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => reversed[k] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    let dag: Vec<Option<(usize, usize)>> = g
        .edges
        .iter()
        .enumerate()
        .map(|(k, &(a, b))| {
            (valid(&(a, b)) && a != b).then_some(if reversed[k] { (b, a) } else { (a, b) })
        })
        .collect();

    // 2. Layers: longest path, in topological order.
    let is_entry = |v: usize| g.entry.get(v).copied().unwrap_or(false);
    let base = usize::from((0..n).any(is_entry));
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in dag.iter().flatten() {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut layer: Vec<usize> = (0..n).map(|v| if is_entry(v) { 0 } else { base }).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&v| indeg[v] == 0).rev().collect();
    while let Some(v) = ready.pop() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                ready.push(w);
            }
        }
    }
    for v in (0..n).filter(|&v| is_entry(v)) {
        if let Some(m) = succ[v].iter().map(|&w| layer[w]).min() {
            layer[v] = m.saturating_sub(1);
        }
    }
    let low = layer.iter().copied().min().unwrap_or(0);
    for l in &mut layer {
        *l -= low;
    }

    // 3. Placeholders on the layers a long edge crosses.
    let mut width: Vec<f64> = g.sizes.iter().map(|s| s.0.max(1.0)).collect();
    let mut dummy = vec![false; n];
    let mut chains: Vec<Vec<usize>> = vec![Vec::new(); g.edges.len()];
    for (k, e) in dag.iter().enumerate() {
        let Some((a, b)) = *e else { continue };
        let mut chain = vec![a];
        for l in layer[a] + 1..layer[b] {
            chain.push(width.len());
            width.push(DUMMY_W);
            dummy.push(true);
            layer.push(l);
        }
        chain.push(b);
        chains[k] = chain;
    }
    let total = width.len();
    let layers = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in &chains {
        for pair in chain.windows(2) {
            down[pair[0]].push(pair[1]);
            up[pair[1]].push(pair[0]);
        }
    }

    // 4. Order within layers.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); layers];
    for v in 0..total {
        rows[layer[v]].push(v);
    }
    let mut pos = vec![0f64; total];
    let set_pos = |rows: &[Vec<usize>], pos: &mut [f64]| {
        for r in rows {
            for (i, &v) in r.iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    set_pos(&rows, &mut pos);
    let mut best = rows.clone();
    let mut best_crossings = crossings(&rows, &down, &pos);
    for sweep in 0..12 {
        let downwards = sweep % 2 == 0;
        let order: Vec<usize> = if downwards {
            (1..layers).collect()
        } else {
            (0..layers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let keys: Vec<f64> = rows[l]
                .iter()
                .map(|&v| {
                    let nb = if downwards { &up[v] } else { &down[v] };
                    mean(nb.iter().map(|&u| pos[u])).unwrap_or(pos[v])
                })
                .collect();
            let mut idx: Vec<usize> = (0..rows[l].len()).collect();
            idx.sort_by(|&i, &j| keys[i].total_cmp(&keys[j]));
            rows[l] = idx.iter().map(|&i| rows[l][i]).collect();
            for (i, &v) in rows[l].iter().enumerate() {
                pos[v] = i as f64;
            }
        }
        let c = crossings(&rows, &down, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = rows.clone();
        }
    }
    let rows = best;

    // 5. x: centres near their neighbours', gaps kept.
    let sep = |a: usize, b: usize| {
        let gap = if dummy[a] || dummy[b] {
            GAP_DUMMY
        } else {
            GAP_X
        };
        (width[a] + width[b]) / 2.0 + gap
    };
    let mut cx = vec![0f64; total];
    for r in &rows {
        let mut x = 0.0;
        for (i, &v) in r.iter().enumerate() {
            if i > 0 {
                x += sep(r[i - 1], v);
            }
            cx[v] = x;
        }
    }
    for pass in 0..9 {
        let order: Vec<usize> = if pass % 2 == 0 {
            (0..layers).collect()
        } else {
            (0..layers).rev().collect()
        };
        for l in order {
            let r = &rows[l];
            let desired: Vec<f64> = r
                .iter()
                .map(|&v| {
                    let nb: Vec<usize> = match pass {
                        8 => up[v].iter().chain(&down[v]).copied().collect(),
                        p if p % 2 == 0 => up[v].clone(),
                        _ => down[v].clone(),
                    };
                    mean(nb.iter().map(|&u| cx[u])).unwrap_or(cx[v])
                })
                .collect();
            let mut offset = vec![0.0; r.len()];
            for i in 1..r.len() {
                offset[i] = offset[i - 1] + sep(r[i - 1], r[i]);
            }
            let target: Vec<f64> = desired.iter().zip(&offset).map(|(d, o)| d - o).collect();
            let fitted = isotonic(&target);
            for (i, &v) in r.iter().enumerate() {
                cx[v] = fitted[i] + offset[i];
            }
        }
    }

    // 6. y: a band per layer, as tall as its tallest box.
    let band: Vec<f64> = (0..layers)
        .map(|l| {
            rows[l]
                .iter()
                .filter(|&&v| v < n)
                .map(|&v| g.sizes[v].1)
                .fold(0.0, f64::max)
        })
        .collect();
    let mut top = vec![0f64; layers];
    for l in 1..layers {
        top[l] = top[l - 1] + band[l - 1] + GAP_Y;
    }
    let mut boxes: Vec<Rect> = (0..n)
        .map(|v| Rect {
            x0: cx[v] - width[v] / 2.0,
            x1: cx[v] + width[v] / 2.0,
            y0: top[layer[v]],
            y1: top[layer[v]] + band[layer[v]],
        })
        .collect();

    // 7. Routes, with ports spread along the boxes' bottom and top.
    let mut routes: Vec<Vec<(f64, f64)>> = chains
        .iter()
        .map(|c| {
            let mut pts = Vec::with_capacity(2 * c.len());
            for (i, &v) in c.iter().enumerate() {
                if i == 0 {
                    pts.push((cx[v], top[layer[v]] + band[layer[v]]));
                } else if i + 1 == c.len() {
                    pts.push((cx[v], top[layer[v]]));
                } else {
                    pts.push((cx[v], top[layer[v]]));
                    pts.push((cx[v], top[layer[v]] + band[layer[v]]));
                }
            }
            pts
        })
        .collect();
    spread_ports(&mut routes, &chains, &boxes, n);
    // Labels beside the first segment (in layout direction).
    let mut labels: Vec<Option<Rect>> = vec![None; g.edges.len()];
    let mut taken: Vec<Rect> = Vec::new();
    let segments: Vec<(usize, Point, Point)> = routes
        .iter()
        .enumerate()
        .flat_map(|(k, r)| r.windows(2).map(move |w| (k, w[0], w[1])))
        .collect();
    for (k, r) in routes.iter().enumerate() {
        let (lw, lh) = g.labels.get(k).copied().unwrap_or((0.0, 0.0));
        if lw <= 0.0 || r.len() < 2 {
            continue;
        }
        let (p, q) = (r[0], r[1]);
        let mut fallback = None;
        let mut chosen = None;
        'search: for t in [0.5, 0.35, 0.65, 0.2, 0.8] {
            let (x, y) = (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t);
            // The side the segment leans away from first.
            let sides = if q.0 > p.0 { [-1.0, 1.0] } else { [1.0, -1.0] };
            for side in sides {
                let x0 = if side > 0.0 { x + 8.0 } else { x - 8.0 - lw };
                let rect = Rect {
                    x0,
                    x1: x0 + lw,
                    y0: y - lh / 2.0,
                    y1: y + lh / 2.0,
                };
                let clear = boxes.iter().all(|b| !b.inflate(2.0).overlaps(&rect))
                    && taken.iter().all(|o| !o.inflate(2.0).overlaps(&rect));
                if !clear {
                    continue;
                }
                fallback.get_or_insert(rect);
                if segments
                    .iter()
                    .all(|&(j, a, b)| j == k || !rect.inflate(2.0).hit_by(a, b))
                {
                    chosen = Some(rect);
                    break 'search;
                }
            }
        }
        let rect = chosen.or(fallback).unwrap_or_else(|| {
            let (x, y) = ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0);
            Rect {
                x0: x + 8.0,
                x1: x + 8.0 + lw,
                y0: y - lh / 2.0,
                y1: y + lh / 2.0,
            }
        });
        taken.push(rect);
        labels[k] = Some(rect);
    }
    // Drawing order: from source to target.
    for (k, r) in routes.iter_mut().enumerate() {
        if reversed[k] {
            r.reverse();
        }
    }
    // Self-calls: a small loop on the box's right.
    for (k, &(a, b)) in g.edges.iter().enumerate() {
        if a == b && a < n {
            let bx = boxes[a];
            let cy = (bx.y0 + bx.y1) / 2.0;
            routes[k] = vec![
                (bx.x1, cy - 10.0),
                (bx.x1 + 18.0, cy - 10.0),
                (bx.x1 + 18.0, cy + 10.0),
                (bx.x1, cy + 10.0),
            ];
        }
    }

    // 8. Origin at the top left of everything drawn.
    let all = boxes
        .iter()
        .copied()
        .chain(labels.iter().flatten().copied())
        .chain(routes.iter().flatten().map(|&(x, y)| Rect {
            x0: x,
            x1: x,
            y0: y,
            y1: y,
        }));
    let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0.0f64);
    for r in all {
        x0 = x0.min(r.x0);
        x1 = x1.max(r.x1);
        y1 = y1.max(r.y1);
    }
    if !x0.is_finite() {
        return Placement {
            boxes,
            routes,
            labels,
            width: 0.0,
            height: 0.0,
        };
    }
    for b in &mut boxes {
        b.shift(-x0, 0.0);
    }
    for l in labels.iter_mut().flatten() {
        l.shift(-x0, 0.0);
    }
    for p in routes.iter_mut().flatten() {
        p.0 -= x0;
    }
    Placement {
        boxes,
        routes,
        labels,
        width: x1 - x0,
        height: y1,
    }
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (n, s) = v.fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    (n > 0).then(|| s / n as f64)
}

/// Crossings between consecutive layers, pair by pair of segments.
fn crossings(rows: &[Vec<usize>], down: &[Vec<usize>], pos: &[f64]) -> usize {
    let mut c = 0;
    for r in rows {
        let segs: Vec<(f64, f64)> = r
            .iter()
            .flat_map(|&a| down[a].iter().map(move |&b| (pos[a], pos[b])))
            .collect();
        for i in 0..segs.len() {
            for j in i + 1..segs.len() {
                let (a, b) = (segs[i], segs[j]);
                if (a.0 - b.0) * (a.1 - b.1) < 0.0 {
                    c += 1;
                }
            }
        }
    }
    c
}

/// The non-decreasing sequence closest to `t` in squared distance.
fn isotonic(t: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(t.len());
    for &x in t {
        blocks.push((x, 1));
        while blocks.len() >= 2 {
            let (s2, n2) = blocks[blocks.len() - 1];
            let (s1, n1) = blocks[blocks.len() - 2];
            if s1 / n1 as f64 > s2 / n2 as f64 {
                blocks.pop();
                blocks.pop();
                blocks.push((s1 + s2, n1 + n2));
            } else {
                break;
            }
        }
    }
    blocks
        .iter()
        .flat_map(|&(s, k)| std::iter::repeat_n(s / k as f64, k))
        .collect()
}

/// Spreads the ends of the segments leaving (arriving at) each box along
/// its bottom (top), in the order of where they go (come from), so that
/// arrowheads do not pile up on one point.
fn spread_ports(routes: &mut [Vec<(f64, f64)>], chains: &[Vec<usize>], boxes: &[Rect], n: usize) {
    for (v, b) in boxes.iter().enumerate().take(n) {
        for leaving in [true, false] {
            let mut ends: Vec<(f64, usize)> = Vec::new();
            for (k, c) in chains.iter().enumerate() {
                let r = &routes[k];
                if r.len() < 2 {
                    continue;
                }
                if leaving && c.first() == Some(&v) {
                    ends.push((r[1].0, k));
                } else if !leaving && c.last() == Some(&v) {
                    ends.push((r[r.len() - 2].0, k));
                }
            }
            if ends.len() < 2 {
                continue;
            }
            ends.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (lo, span) = (b.x0 + b.width() * 0.15, b.width() * 0.7);
            let m = ends.len() as f64;
            for (i, &(_, k)) in ends.iter().enumerate() {
                let x = lo + span * (i as f64 + 0.5) / m;
                let r = &mut routes[k];
                if leaving {
                    r[0].0 = x;
                } else {
                    let last = r.len() - 1;
                    r[last].0 = x;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(sizes: &[(f64, f64)], entry: &[bool], edges: &[(usize, usize)]) -> Graph {
        Graph {
            sizes: sizes.to_vec(),
            entry: entry.to_vec(),
            edges: edges.to_vec(),
            labels: vec![(60.0, 18.0); edges.len()],
        }
    }

    fn no_overlaps(p: &Placement) {
        for (i, a) in p.boxes.iter().enumerate() {
            for b in &p.boxes[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
        }
    }

    /// No segment of an edge passes through a box other than its ends.
    fn clear_routes(g: &Graph, p: &Placement) {
        for (k, r) in p.routes.iter().enumerate() {
            let (a, b) = g.edges[k];
            for w in r.windows(2) {
                for (v, bx) in p.boxes.iter().enumerate() {
                    if v != a && v != b {
                        assert!(!bx.hit_by(w[0], w[1]), "edge {k} crosses box {v}");
                    }
                }
            }
        }
    }

    #[test]
    fn layers_follow_the_longest_path() {
        // entry → 1 → 2 → 3, and 1 → 3 directly: 3 sits below 2.
        let g = graph(
            &[(80.0, 40.0); 4],
            &[true, false, false, false],
            &[(0, 1), (1, 2), (2, 3), (1, 3)],
        );
        let p = place(&g);
        let ys: Vec<f64> = p.boxes.iter().map(|b| b.y0).collect();
        assert!(ys[0] < ys[1] && ys[1] < ys[2] && ys[2] < ys[3], "{ys:?}");
        no_overlaps(&p);
        clear_routes(&g, &p);
        // The long edge 1 → 3 bends around box 2.
        assert!(p.routes[3].len() > 2);
        // Every route starts at its source's bottom and ends at its target's top.
        for (k, &(a, b)) in g.edges.iter().enumerate() {
            let r = &p.routes[k];
            assert_eq!(r[0].1, p.boxes[a].y1);
            assert_eq!(r[r.len() - 1].1, p.boxes[b].y0);
        }
    }

    #[test]
    fn entries_sit_just_above_their_target() {
        // 0 → 1 → 2 and entry 3 → 2: the entry is on 1's layer, not on top.
        let g = graph(
            &[(80.0, 40.0); 4],
            &[true, false, false, true],
            &[(0, 1), (1, 2), (3, 2)],
        );
        let p = place(&g);
        assert_eq!(p.boxes[3].y0, p.boxes[1].y0);
        no_overlaps(&p);
    }

    #[test]
    fn barycentres_untangle_a_crossing() {
        // Two chains given crosswise: 0 → 3, 1 → 2 with 2 listed first.
        let g = graph(
            &[(80.0, 40.0); 4],
            &[true, true, false, false],
            &[(0, 3), (1, 2)],
        );
        let p = place(&g);
        let order = |a: usize, b: usize| p.boxes[a].x0 < p.boxes[b].x0;
        assert_eq!(order(0, 1), order(3, 2), "{:?}", p.boxes);
        // Straight down: each entry right above its target.
        assert!((p.boxes[0].x0 - p.boxes[3].x0).abs() < 1e-6);
    }

    #[test]
    fn cycles_and_self_calls_are_laid_out() {
        let g = graph(
            &[(80.0, 40.0); 3],
            &[true, false, false],
            &[(0, 1), (1, 2), (2, 1), (2, 2)],
        );
        let p = place(&g);
        no_overlaps(&p);
        // The back edge runs from 2 up to 1.
        let r = &p.routes[2];
        assert_eq!(r[0].1, p.boxes[2].y0);
        assert_eq!(r[r.len() - 1].1, p.boxes[1].y1);
        assert_eq!(p.routes[3].len(), 4);
    }

    #[test]
    fn wide_boxes_and_labels_do_not_overlap() {
        // One caller, six callees of different widths.
        let mut sizes = vec![(120.0, 50.0)];
        sizes.extend((0..6).map(|i| (60.0 + 30.0 * f64::from(i), 50.0)));
        let edges: Vec<(usize, usize)> = (1..7).map(|i| (0, i)).collect();
        let mut entry = vec![false; 7];
        entry[0] = true;
        let g = graph(&sizes, &entry, &edges);
        let p = place(&g);
        no_overlaps(&p);
        clear_routes(&g, &p);
        let labels: Vec<Rect> = p.labels.iter().flatten().copied().collect();
        assert_eq!(labels.len(), 6);
        for (i, l) in labels.iter().enumerate() {
            assert!(p.boxes.iter().all(|b| !b.overlaps(l)));
            assert!(labels[i + 1..].iter().all(|o| !o.overlaps(l)));
        }
        for (i, b) in p.boxes.iter().enumerate() {
            assert!((b.width() - sizes[i].0).abs() < 1e-9);
        }
        assert!(p.boxes.iter().all(|b| b.x0 >= 0.0 && b.x1 <= p.width));
    }

    #[test]
    fn segments_hit_rectangles_only_through_their_interior() {
        let r = Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 10.0,
            y1: 10.0,
        };
        assert!(r.hit_by((-5.0, 5.0), (15.0, 5.0)));
        assert!(!r.hit_by((-5.0, 0.0), (15.0, 0.0)));
        assert!(!r.hit_by((-5.0, -5.0), (-1.0, 20.0)));
        assert!(r.hit_by((5.0, 5.0), (5.0, 50.0)));
    }

    #[test]
    fn isotonic_pools_violators() {
        assert_eq!(isotonic(&[1.0, 3.0, 2.0, 4.0]), vec![1.0, 2.5, 2.5, 4.0]);
    }
}
