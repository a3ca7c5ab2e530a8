# Golden values for tests/kernels/golden_test.cpp, from R's lm, glm, rank, qnorm and p.adjust.
#
#   cd tests/golden/kernels && Rscript make_golden.R
#
# Writes (tab-separated, header line, NA for missing, doubles as %.17g so they round-trip exactly):
#   cohort.tsv                 simulated cohort: covariates, predictor v (~15% NA), outcomes, R's RIN of v
#   linear_expected.tsv        lm(y_cont ~ covariates + v) on complete cases: estimate, SE, t, p
#   logistic_expected.tsv      glm(y_bin ~ covariates + v, binomial): estimate, SE, z, p
#   logistic_null_expected.tsv glm(y_bin ~ covariates, binomial) on the same rows: estimate, SE
#   summary_expected.tsv       key/value: residual variance, df, deviances, genomic inflation
#   pvalues_expected.tsv       a p-value vector with NA and ties: p.adjust BH (n = lp and n = 300), Bonferroni
#   distributions_expected.tsv tails and quantiles: 2 pt(-|t|, df), 2 pnorm(-|z|), pchisq upper, qnorm, qt
# Logistic SEs are from the information at R's converged estimate, solve(crossprod(X * sqrt(w))) with
# w = mu (1 - mu) from the fitted values (summary.glm uses the weights of the last IRLS iteration instead).
set.seed(20261126)
n <- 500
fmt <- function(x) ifelse(is.na(x), "NA", sprintf("%.17g", x))
write_tsv <- function(df, file) {
  out <- as.data.frame(lapply(df, function(col) if (is.numeric(col)) fmt(col) else col),
                       stringsAsFactors = FALSE)
  write.table(out, file, sep = "\t", quote = FALSE, row.names = FALSE)
}

age <- round(rnorm(n, 60, 8), 1)           # large mean: exercises the centring
sex <- rbinom(n, 1, 0.5)
bmi <- round(rnorm(n, 27, 4), 2)
batch <- factor(sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2)))
batch_B <- as.numeric(batch == "B")
batch_C <- as.numeric(batch == "C")
v <- 5 + 0.02 * (age - 60) + 0.3 * sex + rnorm(n)
v[sample.int(n, round(0.15 * n))] <- NA   # ~15% missing predictor
y_cont <- 1 + 0.03 * age + 0.5 * sex - 0.05 * bmi + 0.4 * batch_B - 0.3 * batch_C +
  0.35 * ifelse(is.na(v), 5, v) + rnorm(n, 0, 1.5)
eta <- -4 + 0.03 * age + 0.4 * sex + 0.02 * bmi + 0.3 * batch_B - 0.5 * batch_C + 0.5 * (ifelse(is.na(v), 5, v) - 5)
y_bin <- rbinom(n, 1, plogis(eta))
keep <- !is.na(v)
rin_v <- rep(NA_real_, n)
rin_v[keep] <- qnorm((rank(v[keep]) - 3 / 8) / (sum(keep) + 1 / 4))
v_tied <- round(v, 1)                      # ties for the average-rank check
rin_v_tied <- rep(NA_real_, n)
rin_v_tied[keep] <- qnorm((rank(v_tied[keep]) - 3 / 8) / (sum(keep) + 1 / 4))
write_tsv(data.frame(age, sex, bmi, batch_B, batch_C, v, y_cont, y_bin, rin_v, v_tied, rin_v_tied),
          "cohort.tsv")

terms <- c("(Intercept)", "age", "sex", "bmi", "batch_B", "batch_C", "v")

# Linear model on complete cases.
lin <- lm(y_cont ~ age + sex + bmi + batch_B + batch_C + v, subset = keep)
cf <- summary(lin)$coefficients
write_tsv(data.frame(term = terms, estimate = cf[, 1], std_error = cf[, 2], statistic = cf[, 3],
                     p_value = cf[, 4]), "linear_expected.tsv")

# Logistic model, tight convergence; SE from the information at the converged estimate.
info_se <- function(fit) {
  X <- model.matrix(fit)
  mu <- fitted(fit)
  w <- mu * (1 - mu)
  sqrt(diag(solve(crossprod(X * sqrt(w)))))
}
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
logi <- glm(y_bin ~ age + sex + bmi + batch_B + batch_C + v, family = binomial, subset = keep, control = ctl)
stopifnot(logi$converged)
b <- coef(logi)
se <- info_se(logi)
write_tsv(data.frame(term = terms, estimate = b, std_error = se, statistic = b / se,
                     p_value = 2 * pnorm(-abs(b / se))), "logistic_expected.tsv")
null <- glm(y_bin ~ age + sex + bmi + batch_B + batch_C, family = binomial, subset = keep, control = ctl)
stopifnot(null$converged)
write_tsv(data.frame(term = terms[-7], estimate = coef(null), std_error = info_se(null)),
          "logistic_null_expected.tsv")

# Multiple testing: NA entries and exact ties.
p <- runif(200)^3
p[c(7, 50, 120)] <- NA
p[c(11, 12, 13)] <- p[10]
p[c(90, 91)] <- 1e-300
write_tsv(data.frame(p, bh = p.adjust(p, "BH"), bh_n300 = p.adjust(p, "BH", n = 300),
                     bonferroni = p.adjust(p, "bonferroni")), "pvalues_expected.tsv")
lambda <- median(qchisq(p[!is.na(p)], 1, lower.tail = FALSE)) / qchisq(0.5, 1)
lambda_odd <- median(qchisq(p[!is.na(p)][-1], 1, lower.tail = FALSE)) / qchisq(0.5, 1)

write_tsv(data.frame(key = c("lm_sigma2", "lm_df_residual", "lm_n_obs", "glm_deviance", "glm_null_deviance",
                             "lambda_gc", "lambda_gc_odd"),
                     value = c(summary(lin)$sigma^2, lin$df.residual, sum(keep), deviance(logi), deviance(null),
                               lambda, lambda_odd)),
          "summary_expected.tsv")

# Distribution tails and quantiles, including far tails.
d <- rbind(
  data.frame(fn = "pt2", x = c(0, 0.5, -1.96, 2.5, 8, 40, -120), df = c(1, 3, 10, 29.5, 100, 30, 4000)),
  data.frame(fn = "pnorm2", x = c(0, 1, -1.959963984540054, 5, 12, 37.5, -38), df = NA),
  data.frame(fn = "pchisq_upper", x = c(0, 0.45493642311957283, 3.84, 30, 200, 1500), df = c(1, 1, 1, 2, 5, 1)),
  data.frame(fn = "qnorm", x = c(1e-300, 1e-20, 0.025, 0.5, 0.975, 1 - 1e-12), df = NA),
  data.frame(fn = "qt", x = c(1e-20, 0.025, 0.5, 0.975, 0.999), df = c(5, 10, 3, 2.5, 1000)))
f <- list(pt2 = function(x, df) 2 * pt(-abs(x), df), pnorm2 = function(x, df) 2 * pnorm(-abs(x)),
          pchisq_upper = function(x, df) pchisq(x, df, lower.tail = FALSE),
          qnorm = function(x, df) qnorm(x), qt = function(x, df) qt(x, df))
d$value <- mapply(function(fn, x, df) f[[fn]](x, df), d$fn, d$x, d$df, USE.NAMES = FALSE)
write_tsv(d, "distributions_expected.tsv")
