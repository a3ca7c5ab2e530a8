# Golden values for the Cox kernel (tests/kernels/cox_golden_test.cpp) from R's survival::coxph and cox.zph.
# Run from this directory:  Rscript make_golden.R
# Writes, for each data set (lung, veteran, pbc from survival; a simulated cohort):
#   <name>_data.tsv   time, event, stratum, the covariate columns (dummies spelled out), v (NA: missing)
# cox_weighted_expected.tsv: the simulated cohort with case weights w (Breslow; no cox.zph), same columns;
# and cox_expected.tsv with one line per (data set, ties, strata) x term:
#   coef, se of every model term; the model's n, events, loglik, loglik of the covariates-only model on the
#   same rows, score test (coxph(init = c(coef(null), 0))$score), LRT, Wald for v; cox.zph chisq / p for v
#   and GLOBAL (transform = "km", terms = TRUE).
# Rows: complete cases of time, event, stratum and the covariates; v may be NA (the fit drops those rows,
# as coxph's na.omit does). Convergence is tightened (eps 1e-13) so that R's estimates are exact to rounding.
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.0")

ctl <- coxph.control(eps = 1e-13, toler.chol = 1e-15, iter.max = 200)
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))

write_data <- function(name, df) {
  out <- df
  for (j in names(out)) if (is.numeric(out[[j]])) out[[j]] <- fmt(out[[j]])
  write.table(out, paste0(name, "_data.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
}

# Breslow fits with case weights w (frequency weights: for Breslow, R's weights and row copies agree; for Efron
# R counts tied rows, not weights, so only Breslow is compared). No cox.zph: R's KM transform ignores weights.
golden_weighted <- function(name, df) {
  xs <- grep("^x_", names(df), value = TRUE)
  out <- list()
  for (strat in c(FALSE, TRUE)) {
    rhs <- paste(c(xs, if (strat) "strata(stratum)"), collapse = " + ")
    f_null <- as.formula(paste("Surv(time, event) ~", rhs))
    f_full <- as.formula(paste("Surv(time, event) ~", paste(c(xs, "v", if (strat) "strata(stratum)"), collapse = " + ")))
    same <- df[!is.na(df$v), ]
    null <- coxph(f_null, data = same, weights = w, ties = "breslow", control = ctl)
    full <- coxph(f_full, data = same, weights = w, ties = "breslow", control = ctl)
    sc <- coxph(f_full, data = same, weights = w, ties = "breslow", control = ctl, init = c(coef(null), 0))
    k <- length(coef(full))
    common <- data.frame(dataset = name, ties = "breslow", strata = as.integer(strat),
                         n = sum(same$w), events = sum(same$w * same$event),
                         loglik = full$loglik[2], loglik_null = null$loglik[length(null$loglik)],
                         score = sc$score, lrt = 2 * (full$loglik[2] - null$loglik[length(null$loglik)]),
                         wald = unname((coef(full)[k] / sqrt(diag(vcov(full)))[k])^2))
    out[[length(out) + 1]] <- cbind(common[rep(1, k), ], term = names(coef(full)),
                                    coef = unname(coef(full)), se = unname(sqrt(diag(vcov(full)))))
  }
  do.call(rbind, out)
}

# df: time, event, stratum, covariate columns x_*, v.  Fits Surv(time, event) ~ x_* + v (+ strata(stratum)).
golden_rows <- function(name, df) {
  xs <- grep("^x_", names(df), value = TRUE)
  out <- list()
  for (ties in c("efron", "breslow")) for (strat in c(FALSE, TRUE)) {
    rhs <- paste(c(xs, if (strat) "strata(stratum)"), collapse = " + ")
    f_null <- as.formula(paste("Surv(time, event) ~", rhs))
    f_full <- as.formula(paste("Surv(time, event) ~", paste(c(xs, "v", if (strat) "strata(stratum)"), collapse = " + ")))
    same <- df[!is.na(df$v), ]
    null <- coxph(f_null, data = same, ties = ties, control = ctl)
    full <- coxph(f_full, data = same, ties = ties, control = ctl)
    sc <- coxph(f_full, data = same, ties = ties, control = ctl, init = c(coef(null), 0))
    zph <- cox.zph(full, transform = "km", terms = TRUE, global = TRUE)$table
    k <- length(coef(full))
    wald <- (coef(full)[k] / sqrt(diag(vcov(full)))[k])^2
    common <- data.frame(dataset = name, ties = ties, strata = as.integer(strat),
                         n = full$n, events = full$nevent,
                         loglik = full$loglik[2], loglik_null = null$loglik[length(null$loglik)],
                         score = sc$score, lrt = 2 * (full$loglik[2] - null$loglik[length(null$loglik)]),
                         wald = unname(wald),
                         zph_v_chisq = zph["v", "chisq"], zph_v_p = zph["v", "p"],
                         zph_global_chisq = zph["GLOBAL", "chisq"], zph_global_df = zph["GLOBAL", "df"],
                         zph_global_p = zph["GLOBAL", "p"])
    out[[length(out) + 1]] <- cbind(common[rep(1, k), ], term = names(coef(full)),
                                    coef = unname(coef(full)), se = unname(sqrt(diag(vcov(full)))))
  }
  do.call(rbind, out)
}

dummies <- function(f, prefix) {
  f <- factor(f)
  m <- sapply(levels(f)[-1], function(l) as.numeric(f == l))
  colnames(m) <- paste0(prefix, seq_len(ncol(m)))
  as.data.frame(m)
}

# lung: death (status 2); age, ECOG, Karnofsky (physician); v = weight loss (14 NA); strata = sex.
l <- survival::lung
l <- l[complete.cases(l[, c("time", "status", "sex", "age", "ph.ecog", "ph.karno")]), ]
lung <- data.frame(time = l$time, event = as.integer(l$status == 2), stratum = l$sex,
                   x_age = l$age, x_ecog = l$ph.ecog, x_karno = l$ph.karno, v = l$wt.loss)

# veteran: age, prior therapy, cell type (3 dummies); v = Karnofsky; strata = treatment.
vt <- survival::veteran
veteran <- data.frame(time = vt$time, event = vt$status, stratum = vt$trt,
                      x_age = vt$age, x_prior = as.numeric(vt$prior == 10), dummies(vt$celltype, "x_cell"),
                      v = vt$karno)

# pbc: death (status 2; transplant censored); age, edema, log bilirubin, stage (3 dummies); v = albumin
# (the 106 trial-ineligible rows have NA stage and are dropped); strata = sex.
pb <- survival::pbc
pb <- pb[complete.cases(pb[, c("time", "status", "sex", "age", "edema", "bili", "stage")]), ]
pbc <- data.frame(time = pb$time, event = as.integer(pb$status == 2), stratum = as.integer(pb$sex == "f"),
                  x_age = pb$age, x_edema = pb$edema, x_logbili = log(pb$bili), dummies(pb$stage, "x_stage"),
                  v = pb$albumin)

# Simulated cohort: 3,000 rows, 6 numeric covariates (large offsets), a binary one, a 4-level factor, a protein
# v correlated with them (15% missing), Weibull times rounded to whole days (many ties), ~35% events,
# 3 strata with different baseline hazards.
set.seed(20261126)
n <- 3000
num <- sapply(1:6, function(j) 10 * (j %% 4) + (1 + j %% 3) * rnorm(n))
bin <- rbinom(n, 1, 0.4)
fac <- sample(1:4, n, replace = TRUE, prob = c(0.4, 0.3, 0.2, 0.1))
stratum <- sample(0:2, n, replace = TRUE)
vtrue <- 0.3 * scale(num[, 1])[, 1] + 0.2 * bin + rnorm(n)
lp <- 0.05 * num[, 1] - 0.1 * num[, 2] + 0.2 * bin + c(0, 0.3, -0.2, 0.5)[fac] + 0.25 * vtrue
base <- c(1 / 900, 1 / 1400, 1 / 2000)[stratum + 1]
t_event <- (-log(runif(n)) / (base * exp(lp - mean(lp))))^(1 / 1.3)
t_cens <- runif(n, 10, 150)
sim <- data.frame(time = pmax(1, round(pmin(t_event, t_cens) / 5)), event = as.integer(t_event <= t_cens),
                  stratum = stratum)
for (j in 1:6) sim[[paste0("x_num", j)]] <- num[, j]
sim$x_bin <- bin
sim <- cbind(sim, dummies(fac, "x_fac"))
sim$v <- ifelse(runif(n) < 0.15, NA, vtrue)
# Integer case weights 1..3 (bootstrap-like multiplicities; coxph refuses 0) for the weighted Breslow fits.
sim$w <- sample(1:3, n, replace = TRUE)

sets <- list(lung = lung, veteran = veteran, pbc = pbc, sim = sim)
all <- list()
for (nm in names(sets)) {
  write_data(nm, sets[[nm]])
  all[[nm]] <- golden_rows(nm, sets[[nm]])
}
write_expected <- function(res, file) {
  num_cols <- sapply(res, is.numeric)
  for (j in names(res)[num_cols]) res[[j]] <- fmt(res[[j]])
  con <- file(file, "w")
  writeLines(paste("#", R.version.string, "survival", as.character(packageVersion("survival")),
                   "- made by tests/golden/cox/make_golden.R"), con)
  write.table(res, con, sep = "\t", quote = FALSE, row.names = FALSE)
  close(con)
}
write_expected(do.call(rbind, all), "cox_expected.tsv")
write_expected(golden_weighted("sim", sim), "cox_weighted_expected.tsv")
