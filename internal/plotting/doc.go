// Package plotting draws the benchmark plots of a results.File with gonum/plot.
//
// Every plot is written twice into a directory, as NAME.png and NAME.svg, and
// the plot functions return the NAMEs (without extension) they wrote. A plot
// whose data is absent is skipped: no file, no name, no error. Each verifier
// keeps one style across all plots, taken from the registry (see StyleOf);
// which runs a plot compares comes from internal/analysis.
//
// Plots are drawn for a person to read: one tick formatter for every axis
// (no float noise, k and M for large values), log axes where the values
// span more than 1.5 decades, titles wrapped to the canvas, legends in a
// strip beside the data rather than over it, bar names turned vertical
// when they would run together, bars rather than lines where a scenario
// ran one rate, and the trade-off chart's labels placed so they do not
// overlap.
package plotting
