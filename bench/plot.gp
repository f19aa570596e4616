# bench/plot.gp - bench/report.sh's plots, one per call:
#   gnuplot -e "plot_kind='ns'; dir='build/report'; ncol=4" bench/plot.gp
# reads DIR/PLOT_KIND.dat (a header line of column titles, then a row per
# benchmark; "?" = no figure) and writes DIR/PLOT_KIND.png.
#   ns       measured ns per operation, engines side by side, log scale
#   entries  measured VMM entries per operation by kind
#   paper    the paper's Pentium 4 cycles next to trapeze's modelled cycles, log scale
if (strstrt(GPVAL_TERMINALS, "pngcairo") > 0) {
    set terminal pngcairo size 1100,560 font ",10"
} else {
    set terminal png size 1100,560
}
set output dir . "/" . plot_kind . ".png"
set datafile missing "?"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top left autotitle columnheader
set grid ytics
set xtics rotate by -30
if (plot_kind eq "ns") {
    set title "trapeze nanobench: ns per operation (measured; median wall less null, per op)"
    set ylabel "ns per operation (log scale)"
    set logscale y
    set yrange [0.1:*]
} else {
    if (plot_kind eq "entries") {
        set title "trapeze nanobench: VMM entries per operation by kind (measured with -stats)"
        set ylabel "entries per operation"
        set yrange [0:*]
    } else {
        set title "Adams and Agesen 2006, 6.1 (Pentium 4 cycles, as published; 'in' BT and ptemod native derived)\nnext to trapeze's modelled VMM cycles (entries x bench/costs.tsv, not measured)"
        set ylabel "cycles per operation (log scale)"
        set logscale y
        set yrange [0.5:*]
    }
}
plot for [i=2:ncol] dir . "/" . plot_kind . ".dat" using i:xtic(1)
