/*
 * Self-test external UMAT for CalculiX's @ABAQUSNL interface.
 *
 * Compressible neo-Hooke, the same energy as CalculiX's built-in
 * *HYPERELASTIC, NEO HOOKE (rubber.f):
 *
 *     W = C10 (I1bar - 3) + (J - 1)^2 / D1
 *
 * Built into libSELFTEST.so; a material named
 *
 *     *MATERIAL, NAME=@ABAQUSNL_SELFTEST_NEOHOOKE
 *
 * makes CalculiX dlopen("libSELFTEST.so") and call the symbol NEOHOOKE
 * (CalculiX upper-cases the whole deck, so the symbol must be upper case).
 *
 * What CalculiX's umat_abaqusnl.f expects (see ../NOTES.md):
 *   STRESS  (in/out): corotational Cauchy stress  s = R^T sigma R  (F = R U),
 *                     components 11,22,33,12,13,23.
 *   DDSDDE  (out)   : U (x) U : dS/dE : U (x) U, i.e. the Oldroyd (Lie)
 *                     tangent of the Kirchhoff stress rotated back by R,
 *                     NOT divided by J (CalculiX maps it to dS/dE with four
 *                     factors U^-1 and no J).  For an isotropic material this
 *                     is the usual spatial Kirchhoff tangent with b replaced
 *                     by C = F^T F, so no polar decomposition is needed.
 *
 * PROPS(1) = C10, PROPS(2) = D1,
 * PROPS(3) = mode, for testing CalculiX's conventions:
 *            0 -> the tangent CalculiX expects (above) and STRESS = R^T sigma R;
 *            1 -> Abaqus' Jaumann tangent C^MJ instead (same solution,
 *                 slower convergence);
 *            2 -> STRESS = global Cauchy sigma (wrong for CalculiX: the
 *                 solution is wrong as soon as the material rotates).
 * PROPS(4) (optional) = K > 0: in increment KINC = K the first call sets
 *            PNEWDT = 0.5 while DTIME > 0.1 (to test CalculiX's cutbacks);
 *            K < 0: every call sets PNEWDT = 1.0 (legal "no change" in
 *            Abaqus; see NOTES.md for what CalculiX makes of it).
 * STATEV(1) counts converged increments (STATEV on entry holds the values at
 * the start of the increment), STATEV(2) = J.
 *
 * The first call prints one line "SELFTEST NEOHOOKE called: ..." to stdout.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

static int selftest_ncalls = 0;
static int selftest_cut_done = 0;

#define F1(a, i, j) (a)[(i) + 3 * (j)] /* Fortran a(i+1,j+1), 3x3 */

void NEOHOOKE(double *stress, double *statev, double *ddsdde, double *sse,
              double *spd, double *scd, double *rpl, double *ddsddt,
              double *drplde, double *drpldt, const double *stran,
              const double *dstran, const double *time, const double *dtime,
              const double *temp, const double *dtemp, const double *predef,
              const double *dpred, const char *cmname, const int *ndi,
              const int *nshr, const int *ntens, const int *nstatv,
              const double *props, const int *nprops, const double *coords,
              const double *drot, double *pnewdt, const double *celent,
              const double *dfgrd0, const double *dfgrd1, const int *noel,
              const int *npt, const int *layer, const int *kspt,
              const int *kstep, int *kinc, int cmname_len)
{
  static const int vi[6] = {0, 1, 2, 0, 0, 1};
  static const int vj[6] = {0, 1, 2, 1, 2, 2};
  double F[3][3], C[3][3], d[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  double C10 = props[0], D1 = props[1];
  int mode = (*nprops >= 3) ? (int)props[2] : 0;
  int i, j, k, l, a, b;

  (void)stran; (void)dstran; (void)time; (void)dtime; (void)temp;
  (void)dtemp; (void)predef; (void)dpred; (void)ndi; (void)nshr;
  (void)coords; (void)drot; (void)celent; (void)dfgrd0;
  (void)layer; (void)kspt; (void)kstep; (void)kinc; (void)rpl;
  (void)ddsddt; (void)drplde; (void)drpldt; (void)scd;

  if (selftest_ncalls++ == 0) {
    char name[81];
    int n = cmname_len > 0 && cmname_len <= 80 ? cmname_len : 80;
    memcpy(name, cmname, n);
    name[n] = '\0';
    for (i = n - 1; i >= 0 && name[i] == ' '; --i) name[i] = '\0';
    printf("SELFTEST NEOHOOKE called: noel=%d npt=%d ntens=%d nprops=%d "
           "nstatv=%d kstep=%d kinc=%d dtime=%g time=(%g,%g) pnewdt_in=%g "
           "cmname='%s'\n",
           *noel, *npt, *ntens, *nprops, *nstatv, *kstep, *kinc, *dtime,
           time[0], time[1], *pnewdt, name);
    fflush(stdout);
  }

  for (i = 0; i < 3; ++i)
    for (j = 0; j < 3; ++j) F[i][j] = F1(dfgrd1, i, j);
  for (i = 0; i < 3; ++i)
    for (j = 0; j < 3; ++j) {
      C[i][j] = 0.0;
      for (k = 0; k < 3; ++k) C[i][j] += F[k][i] * F[k][j];
    }
  double J = F[0][0] * (F[1][1] * F[2][2] - F[1][2] * F[2][1]) -
             F[0][1] * (F[1][0] * F[2][2] - F[1][2] * F[2][0]) +
             F[0][2] * (F[1][0] * F[2][1] - F[1][1] * F[2][0]);
  double mu = 2.0 * C10;
  double Jm23 = pow(J, -2.0 / 3.0);
  double I1b = Jm23 * (C[0][0] + C[1][1] + C[2][2]);
  double p = 2.0 / D1 * (J - 1.0), dp = 2.0 / D1;
  double tiso[3][3], tau[3][3];
  for (i = 0; i < 3; ++i)
    for (j = 0; j < 3; ++j) {
      tiso[i][j] = mu * (Jm23 * C[i][j] - I1b / 3.0 * d[i][j]);
      tau[i][j] = tiso[i][j] + J * p * d[i][j]; /* rotated Kirchhoff */
    }

  /* stress: corotational Cauchy s = tau / J */
  for (a = 0; a < 6; ++a) stress[a] = tau[vi[a]][vj[a]] / J;
  if (mode == 2) { /* global Cauchy from b = F F^T (deliberately wrong) */
    for (a = 0; a < 6; ++a) {
      double bij = 0.0;
      i = vi[a]; j = vj[a];
      for (k = 0; k < 3; ++k) bij += F[i][k] * F[j][k];
      stress[a] = (mu * (Jm23 * bij - I1b / 3.0 * d[i][j]) + J * p * d[i][j]) / J;
    }
  }

  /* tangent */
  for (a = 0; a < 6; ++a)
    for (b = 0; b < 6; ++b) {
      i = vi[a]; j = vj[a]; k = vi[b]; l = vj[b];
      double Isym = 0.5 * (d[i][k] * d[j][l] + d[i][l] * d[j][k]);
      double II = d[i][j] * d[k][l];
      double c = 2.0 / 3.0 * mu * I1b * (Isym - II / 3.0) -
                 2.0 / 3.0 * (tiso[i][j] * d[k][l] + d[i][j] * tiso[k][l]) +
                 J * (p + J * dp) * II - 2.0 * J * p * Isym;
      if (mode == 1) {
        c += 0.5 * (d[i][k] * tau[j][l] + d[i][l] * tau[j][k] +
                    tau[i][k] * d[j][l] + tau[i][l] * d[j][k]);
        c /= J;
      }
      ddsdde[a + 6 * b] = c;
    }

  if (*nprops >= 4 && props[3] > 0 && *kinc == (int)props[3] &&
      *dtime > 0.1) {
    if (!selftest_cut_done)
      printf("SELFTEST NEOHOOKE: kinc=%d dtime=%g pnewdt_in=%g -> requesting "
             "PNEWDT=0.5 while DTIME > 0.1\n", *kinc, *dtime, *pnewdt);
    fflush(stdout);
    *pnewdt = 0.5;
    selftest_cut_done = 1;
  }
  if (*nprops >= 4 && props[3] < 0) *pnewdt = 1.0;

  *sse = C10 * (I1b - 3.0) + (J - 1.0) * (J - 1.0) / D1;
  *spd = 0.0;
  if (*nstatv >= 1) statev[0] += 1.0;
  if (*nstatv >= 2) statev[1] = J;
}
