import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777'];

/** One y axis: its scale's name and a label that says the one unit it counts in. */
export interface YAxis {
  readonly scale: string;
  readonly label: string;
}

/** Whole-number tick steps (for steps, counts): a metric's x axis never shows step 2.5. */
const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6];

/** Whole-second tick steps for clock axes: labels are HH:MM:SS, so a 0.5 s step would repeat them. */
const SECOND_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

const pad = (n: number) => String(n).padStart(2, '0');

/** A time tick (seconds since the epoch) as the wall clock: 14:05:30. */
export function clockTick(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/**
 * Tick labels with as many decimals as the tick step needs and no more (at most 6): a step of
 * 0.05 gives 0.00, 0.05, 0.10; a step of 20 gives 0, 20, 40 (uPlot's raw floats read
 * 0.15000000000000002).
 */
export function valueTicks(splits: readonly number[], step: number): string[] {
  // the step's own decimals (0.25 needs 2, or 0.75 would read 0.8), float noise cut first
  const exact = step > 0 ? Number(step.toPrecision(10)).toFixed(6).replace(/0+$/, '') : '';
  const decimals = exact.split('.')[1]?.length ?? 0;
  return splits.map((v) => (Math.abs(v) < step / 1e6 ? 0 : v).toFixed(decimals));
}

/**
 * A line chart (uPlot): x values shared by every series; null = no point there. Each y axis
 * counts in one unit (series name their axis by `scale`); a second axis goes on the right.
 * Non-negative data starts at 0. The tick labels drawn are also written to the element's
 * data-x-ticks / data-y-ticks / data-y2-ticks (the canvas has no text a test or a tool could read).
 */
export function LineChart(props: {
  title: string;
  xLabel: string;
  /** The label of the single y axis when `yAxes` is not given (say its unit). */
  yLabel?: string;
  yAxes?: readonly YAxis[];
  x: number[];
  series: { label: string; values: (number | null)[]; scale?: string }[];
  time?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const yAxes = props.yAxes ?? [{ scale: 'y', label: props.yLabel ?? '' }];
    const width = Math.max(260, Math.min(720, el.clientWidth || 600));
    el.setAttribute('data-y-labels', yAxes.map((a) => a.label).join('|'));
    // data-x-ticks, data-y-ticks (first y axis), data-y2-ticks (the right one)
    const record = (attribute: string, labels: string[]) => {
      el.setAttribute(attribute, labels.join('|'));
      return labels;
    };
    const scales: uPlot.Scales = { x: { time: props.time ?? false } };
    for (const axis of yAxes) {
      const values = props.series
        .filter((s) => (s.scale ?? yAxes[0]!.scale) === axis.scale)
        .flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
      const nonNegative = values.every((v) => v >= 0);
      scales[axis.scale] = {
        auto: true,
        // from 0 for counts, rates and latencies: a flat line near 5 must not look like a swing
        range: (_u, min, max) => {
          const lo = nonNegative ? 0 : min;
          const hi = max > lo ? max : lo + 1;
          return uPlot.rangeNum(lo, hi, 0.1, true);
        },
      };
    }
    const plot = new uPlot(
      {
        title: props.title,
        width,
        height: 220,
        scales,
        axes: [
          {
            label: props.xLabel,
            ...(props.time
              ? {
                  incrs: SECOND_INCRS,
                  values: (_u: uPlot, splits: number[]) => record('data-x-ticks', splits.map(clockTick)),
                }
              : {
                  incrs: INTEGER_INCRS,
                  values: (_u: uPlot, splits: number[]) =>
                    record(
                      'data-x-ticks',
                      splits.map((v) => String(Math.round(v))),
                    ),
                }),
          },
          ...yAxes.map((axis, i) => ({
            scale: axis.scale,
            label: axis.label,
            side: i === 0 ? 3 : 1,
            ...(i > 0 && { grid: { show: false } }),
            values: (_u: uPlot, splits: number[], _axis: number, _space: number, step: number) =>
              record(i === 0 ? 'data-y-ticks' : `data-y${i + 1}-ticks`, valueTicks(splits, step)),
          })),
        ],
        series: [
          { label: props.xLabel },
          ...props.series.map((s, i) => ({
            label: s.label,
            scale: s.scale ?? yAxes[0]!.scale,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            points: { show: props.x.length < 60 },
            spanGaps: true,
          })),
        ],
      },
      [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(260, Math.min(720, el.clientWidth)), height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [props.title, props.xLabel, props.yLabel, props.yAxes, props.x, props.series, props.time]);
  return <div class="chart" ref={box} role="img" aria-label={`${props.title} chart`} />;
}
