import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#db2777'];

/** A line chart (uPlot): x values shared by every series; null = no point there. */
export function LineChart(props: {
  title: string;
  xLabel: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
  time?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(260, Math.min(720, el.clientWidth || 600));
    const plot = new uPlot(
      {
        title: props.title,
        width,
        height: 220,
        scales: { x: { time: props.time ?? false } },
        axes: [{ label: props.xLabel }, {}],
        series: [
          { label: props.xLabel },
          ...props.series.map((s, i) => ({
            label: s.label,
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
  }, [props.title, props.xLabel, props.x, props.series, props.time]);
  return <div class="chart" ref={box} role="img" aria-label={`${props.title} chart`} />;
}
