/* global document */
// Small hand-drawn SVG charts for the page: no library, no build step.

const NS = 'http://www.w3.org/2000/svg'

/** An SVG element with attributes and children (text nodes for strings). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag)
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value))
  for (const child of children) {
    el.append(typeof child === 'string' ? document.createTextNode(child) : child)
  }
  return el
}

const titled = (el, text) => {
  el.append(svg('title', {}, text))
  return el
}

/**
 * Stacked columns, one per slot, with an optional line on its own scale drawn over them.
 * `series`: [{ label, color, values: number[] }] (one value per slot), `slots`: labels of the
 * x axis, `line`: { label, color, values: (number | null)[], min, max }.
 */
export function stackedColumns({ slots, series, line, width = 900, height = 220 }) {
  const pad = { left: 40, right: line ? 40 : 10, top: 10, bottom: 28 }
  const innerW = width - pad.left - pad.right
  const innerH = height - pad.top - pad.bottom
  const totals = slots.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0))
  const max = Math.max(1, ...totals)
  const step = innerW / Math.max(1, slots.length)
  const barW = Math.max(2, step * 0.7)
  const y = (v) => pad.top + innerH - (v / max) * innerH
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    class: 'stacked-columns',
  })
  for (const tick of [0, 0.5, 1]) {
    const v = Math.round(max * tick)
    root.append(
      svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
      svg('text', { x: pad.left - 4, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, String(v)),
    )
  }
  slots.forEach((slot, i) => {
    const x = pad.left + i * step + (step - barW) / 2
    let base = 0
    for (const s of series) {
      const v = s.values[i] ?? 0
      if (v <= 0) continue
      root.append(
        titled(
          svg('rect', {
            x,
            y: y(base + v),
            width: barW,
            height: Math.max(0.5, y(base) - y(base + v)),
            fill: s.color,
          }),
          `${slot}: ${s.label} ${v}`,
        ),
      )
      base += v
    }
    const every = Math.ceil(slots.length / 12)
    if (i % every === 0) {
      root.append(
        svg(
          'text',
          { x: x + barW / 2, y: height - 10, class: 'axis', 'text-anchor': 'middle' },
          slot,
        ),
      )
    }
  })
  if (line) {
    const ly = (v) => pad.top + innerH - ((v - line.min) / (line.max - line.min)) * innerH
    const points = []
    line.values.forEach((v, i) => {
      if (v !== null && v !== undefined) points.push([pad.left + i * step + step / 2, ly(v)])
    })
    if (points.length > 0) {
      root.append(
        svg('polyline', {
          points: points.map((p) => p.join(',')).join(' '),
          fill: 'none',
          stroke: line.color,
          'stroke-width': 2,
        }),
      )
      for (const [x, yy] of points)
        root.append(svg('circle', { cx: x, cy: yy, r: 2.5, fill: line.color }))
    }
    for (const v of [line.min, 0, line.max]) {
      root.append(
        svg(
          'text',
          { x: width - pad.right + 4, y: ly(v) + 4, class: 'axis' },
          `${v > 0 ? '+' : ''}${v}`,
        ),
      )
    }
  }
  return root
}

/** A small line of values in [min, max]; gaps (null) break nothing, they are skipped. */
export function sparkline(values, { min, max, width = 160, height = 28, color = '#3b6fb6' }) {
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'sparkline', role: 'img' })
  const step = width / Math.max(1, values.length - 1)
  const y = (v) => height - 2 - ((v - min) / (max - min)) * (height - 4)
  root.append(
    svg('line', {
      x1: 0,
      x2: width,
      y1: y((min + max) / 2),
      y2: y((min + max) / 2),
      class: 'grid',
    }),
  )
  const points = []
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) points.push(`${(i * step).toFixed(1)},${y(v).toFixed(1)}`)
  })
  if (points.length === 1) points.push(points[0])
  if (points.length > 0) {
    root.append(
      svg('polyline', {
        points: points.join(' '),
        fill: 'none',
        stroke: color,
        'stroke-width': 1.5,
      }),
    )
  }
  return root
}

/**
 * One horizontal bar per row, split into segments: rows [{ label, segments: [{ label, color,
 * value }] }]. Bars share one scale, so their lengths compare.
 */
export function horizontalStacks(rows, { width = 900, rowHeight = 22 } = {}) {
  const labelW = 190
  const innerW = width - labelW - 60
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((sum, s) => sum + s.value, 0)))
  const height = rows.length * (rowHeight + 6) + 4
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'horizontal-stacks',
    role: 'img',
  })
  rows.forEach((row, i) => {
    const top = 2 + i * (rowHeight + 6)
    root.append(
      svg(
        'text',
        { x: labelW - 8, y: top + rowHeight * 0.7, class: 'label', 'text-anchor': 'end' },
        row.label,
      ),
    )
    let x = labelW
    let total = 0
    for (const s of row.segments) {
      if (s.value <= 0) continue
      const w = (s.value / max) * innerW
      root.append(
        titled(
          svg('rect', { x, y: top, width: Math.max(0.5, w), height: rowHeight, fill: s.color }),
          `${row.label}: ${s.label} ${s.value}`,
        ),
      )
      x += w
      total += s.value
    }
    root.append(svg('text', { x: x + 6, y: top + rowHeight * 0.7, class: 'axis' }, String(total)))
  })
  return root
}
