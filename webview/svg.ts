/** SVG elements for the views that draw in SVG (they export as drawn). */
export const SVG_NS = 'http://www.w3.org/2000/svg';

/** An <svg> root of the given size, described for screen readers. */
export function svgRoot(className: string, width: number, height: number, label: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('class', className);
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return svg;
}
