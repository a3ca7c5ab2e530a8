# Golden values for the rank-inverse-normal transform and qnorm at biobank size (tests/kernels/golden_test.cpp).
#
#   cd tests/golden/kernels && Rscript make_golden_rin.R
#
# Writes (tab-separated, header line, NA for missing, doubles as %.17g so they round-trip exactly):
#   rin_expected.tsv    x: 6,000 values (10% NA) read through float32 as the engine reads them, many exact ties;
#                       x_fine: the same without rounding to ties; their RINs qnorm((rank - 3/8) / (n + 1/4))
#   qnorm_expected.tsv  qnorm at p across both AS 241 branches and both tails, down to 1e-300
set.seed(20261127)
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_tsv <- function(df, file) {
  out <- as.data.frame(lapply(df, fmt), stringsAsFactors = FALSE)
  write.table(out, file, sep = "\t", quote = FALSE, row.names = FALSE)
}
# R has no float32: round to 24 significant bits the way a float cast does (round half to even is what
# the C cast does; ties at exactly half a float ulp are vanishingly rare for these draws).
to_f32 <- function(x) {
  e <- floor(log2(abs(x)))
  s <- 2^(e - 23)
  ifelse(x == 0, 0, round(x / s) * s)
}
n <- 6000
x_fine <- to_f32(rnorm(n, 5, 2) * rexp(n))
x <- to_f32(round(x_fine, 1))            # rounding to 0.1 leaves ~1,000 distinct values: long tie runs
x[c(17, 18)] <- 0                        # zeros (R ties -0 with +0)
na <- sample.int(n, n / 10)
x[na] <- NA
x_fine[na] <- NA
rin <- function(v) {
  out <- rep(NA_real_, length(v))
  k <- !is.na(v)
  out[k] <- qnorm((rank(v[k]) - 3 / 8) / (sum(k) + 1 / 4))
  out
}
write_tsv(data.frame(x = x, rin_x = rin(x), x_fine = x_fine, rin_x_fine = rin(x_fine)), "rin_expected.tsv")

p <- c(10^-(300:1), seq(0.001, 0.999, by = 0.001), 0.075, 0.925, 0.0749999999, 0.9250000001,
       1 - 10^-(1:15), exp(-25), exp(-25) * 1.0000001, runif(2000))
write_tsv(data.frame(p = p, qnorm = qnorm(p)), "qnorm_expected.tsv")
