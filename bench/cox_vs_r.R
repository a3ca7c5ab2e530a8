# R side of bench/cox_vs_r.sh: simulates a cohort like the bench's (n rows, 31 numeric covariates with offsets,
# a 22- and an 8-level factor: 59 covariate columns + the protein), whole-day times (ties), ~5% events, and
# n_proteins proteins (10% missing each); writes it as cohort.tsv and times R's coxph (Efron) + cox.zph per
# protein, writing the estimates to r_fits.tsv.
# Usage: Rscript cox_vs_r.R OUT_DIR N N_PROTEINS SEED
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]; n <- as.integer(args[2]); k <- as.integer(args[3]); seed <- as.integer(args[4])
set.seed(seed)
num <- sapply(1:31, function(j) 10 * (j %% 5) + (1 + j %% 3) * rnorm(n))
fa <- sample(1:22, n, replace = TRUE, prob = 1 / (1:22))
fb <- sample(1:8, n, replace = TRUE, prob = 1 / (1:8))
dum <- function(f, m) sapply(2:m, function(l) as.numeric(f == l))
x <- cbind(num, dum(fa, 22), dum(fb, 8))
colnames(x) <- paste0("x", seq_len(ncol(x)))
lp0 <- drop(scale(num[, 1:3]) %*% c(0.1, -0.08, 0.1)) + 0.3 * sin(fa) + 0.2 * cos(fb)
prot <- sapply(1:k, function(j) 0.2 * scale(num[, 1])[, 1] + rnorm(n))
lp <- lp0 + 0.1 * prot[, 1]
t_event <- (-log(runif(n)) / (1e-4 * exp(lp)))^(1 / 1.2)
# censoring uniform(0, c) with c set for ~5% events
cfun <- function(c) mean(t_event <= runif(n, 0, c))
c_max <- uniroot(function(lc) cfun(exp(lc)) - 0.05, c(log(1), log(1e7)))$root
set.seed(seed + 1)
cens <- runif(n, 0, exp(c_max))
time <- ceiling(pmin(t_event, cens))
event <- as.integer(t_event <= cens)
prot[matrix(runif(n * k) < 0.1, n, k)] <- NA
colnames(prot) <- paste0("v", 1:k)
dat <- data.frame(time = time, event = event, x, prot)
fmt <- function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v))
w <- dat
for (j in names(w)) w[[j]] <- fmt(w[[j]])
write.table(w, file.path(out, "cohort.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)

res <- data.frame()
for (j in 1:k) {
  v <- prot[, j]
  t0 <- proc.time()[["elapsed"]]
  fit <- coxph(Surv(time, event) ~ x + v, ties = "efron")
  t1 <- proc.time()[["elapsed"]]
  zph <- cox.zph(fit)$table
  t2 <- proc.time()[["elapsed"]]
  kk <- length(coef(fit))
  res <- rbind(res, data.frame(protein = paste0("v", j), n = fit$n, events = fit$nevent,
                               coef = unname(coef(fit)[kk]), se = unname(sqrt(diag(vcov(fit)))[kk]),
                               loglik = fit$loglik[2], zph_v_chisq = zph["v", "chisq"],
                               zph_global_chisq = zph["GLOBAL", "chisq"], sec_coxph = t1 - t0, sec_zph = t2 - t1))
}
for (j in names(res)) if (is.numeric(res[[j]])) res[[j]] <- fmt(res[[j]])
write.table(res, file.path(out, "r_fits.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
